#include "net/public_protocol.hpp"

#include <chrono>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/secrets.hpp"
#include "net/public_codec.hpp"

namespace authnode {

namespace {

using time_point = caf::actor_clock::time_point;

/// Counts an answer for /metrics and logs it at debug; a login's time from
/// arrival to the decision goes into its histogram (a held failure's hold
/// comes after).
void count_answer(connection_broker* self, op_label op, ec result,
                  time_point arrived) {
  auto& c = *self->state.counters;
  c.requests.count(op, result);
  if (op != op_label::login && !log_enabled(log_level::debug))
    return; // nothing to time (a clock read per request is measurable)
  auto took = self->clock().now() - arrived;
  if (op == op_label::login)
    c.login_duration.observe(took);
  if (log_enabled(log_level::debug))
    log_debug(
      "request",
      {{"source", self->state.source},
       {"op", op_label_name(op)},
       {"result", result == ec::none ? "ok" : wire_name(result)},
       {"ms", std::chrono::duration<double, std::milli>(took).count()}});
}

/// Sends one public request to the auth actor and writes the encoded
/// answer, counting it under `op` for /metrics.
template <class Result, class Encode, class... Ts>
void ask_auth(connection_broker* self, const auth_actor& auth, op_label op,
              request_id id, Encode encode, Ts&&... xs) {
  ask_then<Result>(
    self, auth, id, encode,
    [self, op](time_point arrived, ec result) {
      count_answer(self, op, result, arrived);
    },
    std::forward<Ts>(xs)...);
}

using cache_ptr = std::shared_ptr<session_cache>;

/// whoami from the connections' cache (net/session_keeper.hpp) if it holds
/// the session (and, on a gateway, has a lease), else from the auth actor,
/// whose answer fills the cache unless a session was dropped meanwhile (the
/// epoch moved).
void whoami_cached(connection_broker* self, const auth_actor& auth,
                   const cache_ptr& cache, request_id& id, token_request& r) {
  auto digest = token_digest(r.token.reveal());
  auto user = cache->answering() ? cache->find_encoded(digest, now_seconds())
                                 : nullptr;
  if (user) {
    count_answer(self, op_label::whoami, ec::none, self->clock().now());
    write_line(self, encode_user_reply(id, *user));
    return;
  }
  auto epoch = cache->epoch();
  ask_auth<session_view>(
    self, auth, op_label::whoami, id,
    [cache, digest, epoch](const request_id& id, const session_view& v) {
      auto object = encode_user_object(v.user);
      auto reply = encode_user_reply(id, object);
      if (cache->epoch() == epoch)
        cache->put(digest, v.user, v.expires_at, std::move(object));
      return reply;
    },
    whoami_io_atom::value, std::move(r));
}

void dispatch(connection_broker* self, const auth_actor& auth,
              caf::timespan floor, const cache_ptr& sessions,
              decoded_request& req) {
  auto& id = req.id;
  struct visitor {
    connection_broker* self;
    const auth_actor& auth;
    request_id& id;
    void operator()(ping_op) {
      count_answer(self, op_label::ping, ec::none, self->clock().now());
      write_line(self, encode_ok(id));
    }
    void operator()(stats_op) {
      ask_auth<stats_snapshot>(self, auth, op_label::stats, id, encode_stats,
                               stats_atom::value);
    }
    void operator()(register_request& r) {
      ask_auth<user_view>(self, auth, op_label::register_, id, encode_user,
                          register_atom::value, std::move(r));
    }
    void operator()(login_request& r) {
      ask_auth<session_grant>(self, auth, op_label::login, id, encode_grant,
                              login_atom::value, std::move(r));
    }
    void operator()(whoami_op& r) {
      if (sessions)
        return whoami_cached(self, auth, sessions, id, r.req);
      ask_auth<user_view>(self, auth, op_label::whoami, id, encode_user,
                          whoami_atom::value, std::move(r.req));
    }
    void operator()(logout_op& r) {
      ask_auth<caf::ok_atom>(self, auth, op_label::logout, id, encode_done,
                             logout_atom::value, std::move(r.req));
    }
    void operator()(password_change_request& r) {
      ask_auth<caf::ok_atom>(self, auth, op_label::change_password, id,
                             encode_done, chpass_atom::value, std::move(r));
    }
    // The reply to recovery_start is held until the floor has passed since
    // the request arrived: whether a mail was queued (a transaction) or not
    // (one lookup) must not show in its timing.
    void operator()(recovery_start_request& r) {
      ask_then<caf::ok_atom>(
        self, auth, id, held_ok{floor},
        [self = self](time_point arrived, ec result) {
          count_answer(self, op_label::recovery_start, result, arrived);
        },
        recovery_start_atom::value, std::move(r));
    }
    void operator()(recovery_finish_request& r) {
      ask_auth<session_grant>(self, auth, op_label::recovery_finish, id,
                              encode_grant, recovery_finish_atom::value,
                              std::move(r));
    }
    void operator()(verify_start_op& r) {
      ask_auth<bool>(self, auth, op_label::verify_email_start, id, encode_sent,
                     verify_start_atom::value, std::move(r.req));
    }
    void operator()(verify_finish_op& r) {
      ask_auth<user_view>(self, auth, op_label::verify_email_finish, id,
                          encode_user, verify_finish_atom::value,
                          std::move(r.req));
    }
    void operator()(email_change_request& r) {
      ask_auth<caf::ok_atom>(self, auth, op_label::change_email_start, id,
                             encode_done, email_start_atom::value,
                             std::move(r));
    }
    void operator()(email_finish_op& r) {
      ask_auth<user_view>(self, auth, op_label::change_email_finish, id,
                          encode_user, email_finish_atom::value,
                          std::move(r.req));
    }
    void operator()(totp_setup_op& r) {
      ask_auth<totp_setup_reply>(self, auth, op_label::totp_setup, id,
                                 encode_totp_setup, totp_setup_atom::value,
                                 std::move(r.req));
    }
    void operator()(totp_enable_op& r) {
      ask_auth<recovery_code_list>(self, auth, op_label::totp_enable, id,
                                   encode_recovery_codes,
                                   totp_enable_atom::value, std::move(r.req));
    }
    void operator()(totp_disable_request& r) {
      ask_auth<caf::ok_atom>(self, auth, op_label::totp_disable, id,
                             encode_done, totp_disable_atom::value,
                             std::move(r));
    }
    void operator()(codes_renew_op& r) {
      ask_auth<recovery_code_list>(self, auth, op_label::recovery_codes_renew,
                                   id, encode_recovery_codes,
                                   codes_renew_atom::value, std::move(r.req));
    }
    void operator()(second_factor_login& r) {
      ask_auth<session_grant>(self, auth, op_label::login_second_factor, id,
                              encode_grant, login_factor_atom::value,
                              std::move(r));
    }
    void operator()(passkey_begin_request& r) {
      ask_auth<webauthn_options>(self, auth, op_label::passkey_register_begin,
                                 id, encode_passkey_options,
                                 pk_reg_begin_atom::value, std::move(r));
    }
    void operator()(passkey_register_request& r) {
      ask_auth<passkey_info>(self, auth, op_label::passkey_register_finish, id,
                             encode_passkey, pk_reg_finish_atom::value,
                             std::move(r));
    }
    void operator()(passkey_login_begin_request& r) {
      ask_auth<passkey_login_options>(self, auth,
                                      op_label::passkey_login_begin, id,
                                      encode_passkey_login_options,
                                      pk_login_begin_atom::value,
                                      std::move(r));
    }
    void operator()(passkey_login_request& r) {
      ask_auth<session_grant>(self, auth, op_label::passkey_login_finish, id,
                              encode_grant, pk_login_finish_atom::value,
                              std::move(r));
    }
    void operator()(passkeys_list_op& r) {
      ask_auth<passkey_list>(self, auth, op_label::passkeys_list, id,
                             encode_passkeys, pk_list_atom::value,
                             std::move(r.req));
    }
    void operator()(passkey_delete_request& r) {
      ask_auth<caf::ok_atom>(self, auth, op_label::passkey_delete, id,
                             encode_done, pk_delete_atom::value, std::move(r));
    }
    caf::timespan floor;
    const cache_ptr& sessions;
  };
  std::visit(visitor{self, auth, id, floor, sessions}, req.body);
}

} // namespace

line_handler public_protocol(auth_actor auth, public_settings cfg,
                             std::shared_ptr<session_cache> sessions) {
  return [auth, cfg, sessions](connection_broker* self,
                               std::string_view line) {
    auto decoded = decode_request(line, self->state.source);
    if (auto failure = std::get_if<decode_failure>(&decoded)) {
      count_answer(self, op_label::invalid, failure->code, self->clock().now());
      write_line(self,
                 encode_error(failure->id, failure->code, failure->message));
      return;
    }
    dispatch(self, auth, cfg.recovery_reply_time, sessions,
             std::get<decoded_request>(decoded));
  };
}

} // namespace authnode
