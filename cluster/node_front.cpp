#include "cluster/node_front.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <caf/node_id.hpp>

#include "core/error_code.hpp"
#include "core/log.hpp"

namespace authnode {

node_front_actor::behavior_type
node_front(node_front_actor::stateful_pointer<node_front_state> self,
           node_role role, caf::actor first, caf::actor second,
           uint32_t hashers, caf::actor sessions) {
  auto& st = self->state;
  st.sessions = std::move(sessions);
  st.role = role;
  st.first = std::move(first);
  st.second = std::move(second);
  st.hashers = hashers;
  return {
    [=](hello_atom, uint32_t protocol)
      -> caf::result<uint32_t, std::string, caf::actor, caf::actor,
                     uint32_t> {
      auto& st = self->state;
      auto peer = self->current_sender()
                    ? caf::to_string(self->current_sender()->node())
                    : std::string{"?"};
      if (protocol != cluster_protocol) {
        log_warning("refused a node that speaks cluster protocol "
                    + std::to_string(protocol) + " (node " + peer + ")");
        return caf::make_error(
          ec::unavailable,
          std::string{"cluster protocol mismatch: this "} + to_string(st.role)
            + " node speaks version " + std::to_string(cluster_protocol)
            + ", the peer version "
            + std::to_string(protocol));
      }
      log_info("a gateway linked (node " + peer + ")");
      return {cluster_protocol, std::string{to_string(st.role)}, st.first,
              st.second, st.hashers};
    },
    [=](session_hub_atom) {
      return self->state.sessions;
    },
  };
}

} // namespace authnode
