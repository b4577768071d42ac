#include "net/session_keeper.hpp"

#include <string>

#include "actors/interfaces.hpp"

namespace authnode {

caf::behavior session_keeper(session_keeper_broker* self,
                             std::shared_ptr<session_cache> sessions) {
  self->state.sessions = std::move(sessions);
  return {
    [=](io_forget_atom, const std::string& digest) {
      self->state.sessions->forget(digest);
      return caf::ok_atom::value;
    },
    [=](io_forget_atom, int64_t user_id, const std::string& keep) {
      self->state.sessions->forget_user(user_id, keep);
      return caf::ok_atom::value;
    },
  };
}

} // namespace authnode
