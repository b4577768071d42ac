// The CAF view of node_options: registers every option of config/options.def
// with its help text, so that `--name=value` on the command line and
// `name=value` in the INI file given by --config-file both work, and
// announces our message types.
#pragma once

#include <string>

#include <caf/actor_system_config.hpp>

#include "config/options.hpp"

namespace authnode {

class node_config : public caf::actor_system_config {
public:
  node_config();

  node_options opts;

  /// Every option CAF knows: ours and its own (for config/ini_check).
  const caf::config_option_set& options() const {
    return custom_options_;
  }
};

/// Every option of config/options.def with its value in `opts`, as an INI
/// file's [global] section that would give the same values: what
/// `--dump-config` prints.
std::string dump_options(const node_options& opts);

/// Tunes CAF for this server: one read per event, so that no connection
/// starves the others on the multiplexer thread, and scheduler workers that
/// do not spin at the hashers' expense. Options given by the user win.
void tune_caf(caf::actor_system_config& cfg);

} // namespace authnode
