#include "actors/audit.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace authnode {

audit_state::~audit_state() {
  if (own_fd && fd >= 0)
    ::close(fd);
}

int open_audit_sink(const std::string& path, std::string& error) {
  if (path.empty() || path == "stderr")
    return STDERR_FILENO;
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                  0600);
  if (fd < 0)
    error = std::strerror(errno);
  return fd;
}

std::string audit_line(const audit_event& e) {
  nlohmann::ordered_json line{
    {"time", rfc3339(e.time)}, {"event", "auth"},    {"op", e.op},
    {"outcome", e.outcome},    {"source", e.source}, {"account", e.account},
    {"reason", e.reason},
  };
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
    + "\n";
}

audit_actor::behavior_type
audit(audit_actor::stateful_pointer<audit_state> self, int fd) {
  self->state.fd = fd;
  self->state.own_fd = fd != STDERR_FILENO;
  return {
    [=](audit_atom, const audit_event& e) {
      auto line = audit_line(e);
      // One write per line, so lines from several nodes sharing a file
      // (O_APPEND) stay whole.
      [[maybe_unused]] auto n = ::write(self->state.fd, line.data(),
                                        line.size());
    },
  };
}

} // namespace authnode
