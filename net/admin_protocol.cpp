#include "net/admin_protocol.hpp"

#include <cstring>

#include "core/admin_key.hpp"
#include "core/log.hpp"
#include "net/admin_codec.hpp"

namespace authnode {

namespace {

/// A short hash of a wrong key, so that the guard does not escalate for the
/// same stale key sent again (like a repeated wrong password). 0: no key.
uint64_t key_fingerprint(const secret& key) {
  if (key.empty())
    return 0;
  auto digest = admin_key_digest(key.reveal());
  uint64_t out = 0;
  std::memcpy(&out, digest.data(), sizeof(out));
  return out == 0 ? 1 : out;
}

void dispatch(connection_broker* self, const admin_actor& admin,
              const request_id& id, admin_body& body) {
  struct visitor {
    connection_broker* self;
    const admin_actor& admin;
    const request_id& id;
    void operator()(admin_stats_op) {
      ask<stats_snapshot>(self, admin, id, encode_stats, stats_atom::value);
    }
    void operator()(user_show_op& op) {
      ask<user_detail>(self, admin, id, encode_user_detail,
                       user_show_atom::value, std::move(op.email));
    }
    void operator()(user_list_op& op) {
      auto limit = op.query.limit;
      ask<user_page>(
        self, admin, id,
        [limit](const request_id& id, const user_page& page) {
          return encode_user_page(id, page, limit);
        },
        user_list_atom::value, std::move(op.query));
    }
    void operator()(user_add_op& op) {
      ask<user_view>(self, admin, id, encode_user, user_add_atom::value,
                     std::move(op.user));
    }
    void operator()(user_set_password_op& op) {
      ask<caf::ok_atom>(self, admin, id, encode_done, user_passwd_atom::value,
                        std::move(op.email), std::move(op.password));
    }
    void operator()(user_disable_op& op) {
      ask<caf::ok_atom>(self, admin, id, encode_done, user_disable_atom::value,
                        std::move(op.email), true);
    }
    void operator()(user_enable_op& op) {
      ask<caf::ok_atom>(self, admin, id, encode_done, user_disable_atom::value,
                        std::move(op.email), false);
    }
    void operator()(user_delete_op& op) {
      ask<caf::ok_atom>(self, admin, id, encode_done, user_delete_atom::value,
                        std::move(op.email));
    }
    void operator()(sessions_list_op& op) {
      ask<session_list>(self, admin, id, encode_session_list,
                        sessions_list_atom::value, std::move(op.email));
    }
    void operator()(sessions_revoke_op& op) {
      ask<revoke_result>(self, admin, id, encode_revoked,
                         sessions_revoke_atom::value, std::move(op.email),
                         op.session_id);
    }
    void operator()(user_import_op& op) {
      ask<import_report>(self, admin, id, encode_import_report,
                         user_import_atom::value, std::move(op.req));
    }
    void operator()(throttle_show_op& op) {
      ask<throttle_status>(self, admin, id, encode_throttle_status,
                           throttle_show_atom::value, std::move(op.target));
    }
    void operator()(throttle_reset_op& op) {
      ask<bool>(self, admin, id, encode_throttle_reset,
                throttle_reset_atom::value, std::move(op.target));
    }
    void operator()(backup_op& op) {
      ask<backup_result>(self, admin, id, encode_backup, backup_atom::value,
                         std::move(op.path));
    }
    void operator()(breached_reload_op) {
      ask<breached_status>(self, admin, id, encode_breached_status,
                           breached_reload_atom::value);
    }
    void operator()(mail_outbox_op) {
      ask<outbox_status>(self, admin, id, encode_outbox_status,
                         outbox_status_atom::value);
    }
    void operator()(user_mfa_reset_op& op) {
      ask<caf::ok_atom>(self, admin, id, encode_done, mfa_reset_atom::value,
                        std::move(op.email));
    }
    void operator()(passkey_delete_op& op) {
      ask<caf::ok_atom>(self, admin, id, encode_done, pk_delete_atom::value,
                        std::move(op.email), std::move(op.passkey_id));
    }
    void operator()(user_verify_op& op) {
      ask<caf::ok_atom>(self, admin, id, encode_done, user_verify_atom::value,
                        std::move(op.email), op.verified);
    }
  };
  std::visit(visitor{self, admin, id}, body);
}

} // namespace

line_handler admin_protocol(admin_actor admin, std::string key_digest) {
  return [admin, key_digest](connection_broker* self, std::string_view line) {
    auto decoded = decode_admin_line(line);
    if (auto failure = std::get_if<decode_failure>(&decoded)) {
      write_line(self,
                 encode_error(failure->id, failure->code, failure->message));
      return;
    }
    auto& req = std::get<admin_line>(decoded);
    if (!admin_key_matches(req.key.reveal(), key_digest)) {
      admin_denial denial{self->state.source, key_fingerprint(req.key),
                          req.key.empty() ? "no admin key" : "wrong admin key"};
      log_warning("admin request refused",
                  {{"source", self->state.source}, {"reason", denial.reason}});
      ask<caf::ok_atom>(self, admin, req.id, encode_done, deny_atom::value,
                        std::move(denial));
      return;
    }
    if (auto failure = std::get_if<decode_failure>(&req.body)) {
      write_line(self,
                 encode_error(failure->id, failure->code, failure->message));
      return;
    }
    auto& body = std::get<admin_body>(req.body);
    // Operator actions are rare and matter: logged at info, never with
    // their arguments (an email is not a secret, but a password is).
    log_info("admin request", {{"source", self->state.source}, {"op", req.op}});
    dispatch(self, admin, req.id, body);
  };
}

} // namespace authnode
