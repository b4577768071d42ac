#include "actors/interfaces.hpp"

namespace authnode {

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<secret>("authnode::secret")
    .add_message_type<user_view>("authnode::user_view")
    .add_message_type<user_record>("authnode::user_record")
    .add_message_type<new_user>("authnode::new_user")
    .add_message_type<register_request>("authnode::register_request")
    .add_message_type<login_request>("authnode::login_request")
    .add_message_type<token_request>("authnode::token_request")
    .add_message_type<password_change_request>(
      "authnode::password_change_request")
    .add_message_type<session_grant>("authnode::session_grant")
    .add_message_type<stats_snapshot>("authnode::stats_snapshot")
    .add_message_type<hash_params>("authnode::hash_params")
    .add_message_type<verify_outcome>("authnode::verify_outcome")
    .add_message_type<session_row>("authnode::session_row")
    .add_message_type<login_commit>("authnode::login_commit")
    .add_message_type<session_owner>("authnode::session_owner")
    .add_message_type<password_change>("authnode::password_change")
    .add_message_type<throttle_keys>("authnode::throttle_keys")
    .add_message_type<attempt_report>("authnode::attempt_report")
    .add_message_type<audit_event>("authnode::audit_event")
    .add_message_type<device_record>("authnode::device_record")
    .add_message_type<user_detail>("authnode::user_detail")
    .add_message_type<user_query>("authnode::user_query")
    .add_message_type<user_page>("authnode::user_page")
    .add_message_type<admin_new_user>("authnode::admin_new_user")
    .add_message_type<admin_denial>("authnode::admin_denial")
    .add_message_type<session_info>("authnode::session_info")
    .add_message_type<session_list>("authnode::session_list")
    .add_message_type<revoke_result>("authnode::revoke_result")
    .add_message_type<throttle_target>("authnode::throttle_target")
    .add_message_type<throttle_status>("authnode::throttle_status")
    .add_message_type<import_rejection>("authnode::import_rejection")
    .add_message_type<import_row>("authnode::import_row")
    .add_message_type<import_request>("authnode::import_request")
    .add_message_type<import_counts>("authnode::import_counts")
    .add_message_type<import_report>("authnode::import_report")
    .add_message_type<import_batch>("authnode::import_batch")
    .add_message_type<import_outcome>("authnode::import_outcome")
    .add_message_type<user_ids>("authnode::user_ids")
    .add_message_type<password_rehash>("authnode::password_rehash")
    .add_message_type<backup_result>("authnode::backup_result");
}

} // namespace authnode
