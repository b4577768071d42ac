#include "actors/interfaces.hpp"

namespace authnode {

std::string versioned_type_name(const std::string& name) {
  return "authnode.v" + std::to_string(cluster_protocol) + "::" + name;
}

std::string to_string(attempt_result x) {
  switch (x) {
    case attempt_result::success:
      return "success";
    case attempt_result::failure:
      return "failure";
    case attempt_result::aborted:
      return "aborted";
  }
  return "attempt_result(" + std::to_string(static_cast<int>(x)) + ")";
}

namespace {

// A type's wire name carries the cluster protocol version: a node that
// receives a message of another version cannot decode it, and says so,
// rather than reading its fields as something else.
template <class T>
void announce(caf::actor_system_config& cfg, const char* name) {
  cfg.add_message_type<T>(versioned_type_name(name));
}

} // namespace

void register_message_types(caf::actor_system_config& cfg) {
  announce<secret>(cfg, "secret");
  announce<user_view>(cfg, "user_view");
  announce<session_view>(cfg, "session_view");
  announce<user_record>(cfg, "user_record");
  announce<new_user>(cfg, "new_user");
  announce<register_request>(cfg, "register_request");
  announce<login_request>(cfg, "login_request");
  announce<token_request>(cfg, "token_request");
  announce<password_change_request>(cfg, "password_change_request");
  announce<session_grant>(cfg, "session_grant");
  announce<stats_snapshot>(cfg, "stats_snapshot");
  announce<hash_params>(cfg, "hash_params");
  announce<verify_outcome>(cfg, "verify_outcome");
  announce<breached_status>(cfg, "breached_status");
  announce<session_row>(cfg, "session_row");
  announce<login_commit>(cfg, "login_commit");
  announce<session_owner>(cfg, "session_owner");
  announce<password_change>(cfg, "password_change");
  announce<throttle_keys>(cfg, "throttle_keys");
  announce<attempt_report>(cfg, "attempt_report");
  announce<throttle_lookup>(cfg, "throttle_lookup");
  announce<shared_failures>(cfg, "shared_failures");
  announce<audit_event>(cfg, "audit_event");
  announce<device_record>(cfg, "device_record");
  announce<user_detail>(cfg, "user_detail");
  announce<user_query>(cfg, "user_query");
  announce<user_page>(cfg, "user_page");
  announce<admin_new_user>(cfg, "admin_new_user");
  announce<admin_denial>(cfg, "admin_denial");
  announce<session_info>(cfg, "session_info");
  announce<session_list>(cfg, "session_list");
  announce<revoke_result>(cfg, "revoke_result");
  announce<throttle_target>(cfg, "throttle_target");
  announce<throttle_status>(cfg, "throttle_status");
  announce<import_rejection>(cfg, "import_rejection");
  announce<import_row>(cfg, "import_row");
  announce<import_request>(cfg, "import_request");
  announce<import_counts>(cfg, "import_counts");
  announce<import_report>(cfg, "import_report");
  announce<import_batch>(cfg, "import_batch");
  announce<import_outcome>(cfg, "import_outcome");
  announce<user_ids>(cfg, "user_ids");
  announce<password_rehash>(cfg, "password_rehash");
  announce<backup_result>(cfg, "backup_result");
  announce<outgoing_mail>(cfg, "outgoing_mail");
  announce<outbox_batch>(cfg, "outbox_batch");
  announce<outbox_status>(cfg, "outbox_status");
  announce<code_request>(cfg, "code_request");
  announce<code_issued>(cfg, "code_issued");
  announce<code_attempt>(cfg, "code_attempt");
  announce<account_recovery>(cfg, "account_recovery");
  announce<recovery_start_request>(cfg, "recovery_start_request");
  announce<recovery_finish_request>(cfg, "recovery_finish_request");
  announce<token_code_request>(cfg, "token_code_request");
  announce<email_change_request>(cfg, "email_change_request");
  announce<factor_attempt>(cfg, "factor_attempt");
  announce<recovery_code_list>(cfg, "recovery_code_list");
  announce<totp_setup_reply>(cfg, "totp_setup_reply");
  announce<totp_disable_request>(cfg, "totp_disable_request");
  announce<second_factor_login>(cfg, "second_factor_login");
  announce<challenge_request>(cfg, "challenge_request");
  announce<challenge_info>(cfg, "challenge_info");
  announce<second_factor_challenge>(cfg, "second_factor_challenge");
  announce<challenge_attempt>(cfg, "challenge_attempt");
  announce<factor_used>(cfg, "factor_used");
  announce<passkey_info>(cfg, "passkey_info");
  announce<passkey_list>(cfg, "passkey_list");
  announce<webauthn_challenge>(cfg, "webauthn_challenge");
  announce<webauthn_options>(cfg, "webauthn_options");
  announce<passkey_owner>(cfg, "passkey_owner");
  announce<passkey_begin_request>(cfg, "passkey_begin_request");
  announce<passkey_register_request>(cfg, "passkey_register_request");
  announce<passkey_login_begin_request>(cfg, "passkey_login_begin_request");
  announce<passkey_login_options>(cfg, "passkey_login_options");
  announce<passkey_login_request>(cfg, "passkey_login_request");
  announce<passkey_delete_request>(cfg, "passkey_delete_request");
  announce<passkey_new>(cfg, "passkey_new");
  announce<passkey_claim>(cfg, "passkey_claim");
  announce<passkey_lookup>(cfg, "passkey_lookup");
  announce<passkey_use>(cfg, "passkey_use");
  announce<registration_verdict>(cfg, "registration_verdict");
  announce<assertion_verdict>(cfg, "assertion_verdict");
  announce<webauthn_policy>(cfg, "webauthn_policy");
  announce<webauthn_registration>(cfg, "webauthn_registration");
  announce<webauthn_credential>(cfg, "webauthn_credential");
  announce<webauthn_assertion>(cfg, "webauthn_assertion");
  announce<webauthn_proof>(cfg, "webauthn_proof");
}

} // namespace authnode
