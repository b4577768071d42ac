// A registration, top to bottom. The registration is a value
// (register_flow: its promise, the checked email and name, the password, the
// source) carried through the steps below, declared and defined in the order
// they run:
//
//   start_register (checks the fields) --> look_for_taken (the database)
//     --> spend_budget (the guard) --> hash (the hash pool) --> store
//
// Looking first means a taken email costs no hash (the UNIQUE constraint
// still settles a race between two registrations of one email), and every
// hash is paid from the source's registration budget, so that a
// registration flood cannot take the CPU that logins need. The flow is
// shared (shared_ptr) because a step's answer and error callbacks both hold
// it and exactly one of them runs.
#include "actors/register_flow.hpp"

#include <memory>
#include <string>
#include <utility>

#include "actors/email_flow.hpp"
#include "core/account_rules.hpp"
#include "core/clock.hpp"
#include "core/error_code.hpp"
#include "core/source_key.hpp"

namespace authnode {

namespace {

struct register_flow {
  caf::typed_response_promise<user_view> rp;
  /// Normalized and checked (check_new_account).
  std::string email;
  std::string name;
  secret password;
  /// Where the registration is throttled and recorded (effective_source).
  std::string source;
};

using register_ptr = std::shared_ptr<register_flow>;

// The steps, in the order they run.
void look_for_taken(auth_ptr self, register_ptr reg);
void spend_budget(auth_ptr self, register_ptr reg);
void hash(auth_ptr self, register_ptr reg);
void store(auth_ptr self, register_ptr reg, std::string phc);

} // namespace

caf::result<user_view> start_register(auth_ptr self, register_request& req) {
  auto source = effective_source(self, req.source, req.client_addr);
  if (!source)
    return std::move(source.error());
  if (auto err = check_new_account(req.email, req.name, req.password,
                                   self->state.cfg.min_password,
                                   self->state.cfg.context_words))
    return err;
  auto reg = std::make_shared<register_flow>();
  reg->rp = self->make_response_promise<user_view>();
  reg->email = std::move(req.email);
  reg->name = std::move(req.name);
  reg->password = std::move(req.password);
  reg->source = std::move(*source);
  look_for_taken(self, reg);
  return reg->rp;
}

namespace {

void look_for_taken(auth_ptr self, register_ptr reg) {
  ask_db<user_record>(
    self,
    [=](user_record&) {
      reg->rp.deliver(caf::make_error(ec::email_taken));
    },
    [=](caf::error err) {
      if (is_not_found(err))
        spend_budget(self, reg);
      else
        reg->rp.deliver(std::move(err));
    },
    user_get_atom::value, reg->email);
}

/// One hash from the source's registration budget (none to pay with
/// throttling off).
void spend_budget(auth_ptr self, register_ptr reg) {
  if (!self->state.guard) {
    hash(self, reg);
    return;
  }
  ask_guard<caf::ok_atom>(
    self,
    [=](caf::ok_atom) {
      hash(self, reg);
    },
    audited_refusal(self, "register", reg->source, reg->email,
                    answer_error(reg)),
    guard_spend_atom::value, source_key(reg->source));
}

void hash(auth_ptr self, register_ptr reg) {
  self
    ->request(self->state.hasher, caf::infinite, hash_new_atom::value,
              std::move(reg->password), self->state.cfg.params)
    .then(
      [=](std::string& phc) {
        store(self, reg, std::move(phc));
      },
      counted_breach(self, "register", reg->source, reg->email,
                     answer_error(reg)));
}

void store(auth_ptr self, register_ptr reg, std::string phc) {
  new_user user{reg->email, reg->name, std::move(phc), now_seconds()};
  ask_db<user_view>(
    self,
    [=](user_view& created) {
      self->state.counters->registrations_total += 1;
      if (self->state.cfg.verify_on_register)
        mail_verification(self, created.email, reg->source);
      reg->rp.deliver(std::move(created));
    },
    answer_error(reg), user_add_atom::value, std::move(user));
}

} // namespace

} // namespace authnode
