// The node's options as given: one field per flag, with its default, made
// from the table in config/options.def (where each option's help text sits
// beside its default). CAF fills it from the command line and the INI file
// (config/node_config.cpp); resolve() (config/node_settings.hpp) checks it
// and turns it into the typed node_settings that the rest of the node
// receives. Nothing but resolve() reads these fields.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/timespan.hpp>

namespace authnode {

struct node_options {
#define AUTHNODE_OPTION(type, field, name, fallback, help)                     \
  type field = fallback;
#include "config/options.def"
};

} // namespace authnode
