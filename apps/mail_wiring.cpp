#include "apps/mail_wiring.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "actors/mailer.hpp"
#include "cluster/tls.hpp"
#include "core/log.hpp"
#include "core/mail_template.hpp"
#include "core/node_keys.hpp"

namespace authnode {

std::optional<node_keys> load_secret_keys(const node_settings& s) {
  if (s.secret_key_path.empty()) {
    log_info("secret key: fresh random bytes kept nowhere (in-memory "
             "database without --secret-key-file)");
    return random_node_keys();
  }
  bool created = false;
  std::string error;
  auto keys = load_node_keys(s.secret_key_path, created, error);
  if (!keys) {
    log_error("--secret-key-file: " + error);
    return std::nullopt;
  }
  if (created)
    log_info("created secret key file " + s.secret_key_path + " (mode 0600)");
  return keys;
}

std::shared_ptr<const factor_setup> make_factor_setup(const node_settings& s,
                                                      const node_keys& keys) {
  auto setup = std::make_shared<factor_setup>();
  setup->keys = keys;
  setup->skew = s.totp_skew;
  return setup;
}

bool load_mail_setup(const node_settings& s, const node_keys& keys,
                     std::shared_ptr<const mail_setup>& out) {
  std::string error;
  // Templates given are checked even without mail: a typo shows at once.
  std::optional<mail_templates> templates;
  if (s.mail() || !s.mail_templates.empty()) {
    templates = load_mail_templates(s.mail_templates, error);
    if (!templates) {
      log_error("--mail-templates: " + error);
      return false;
    }
  }
  if (!s.mail()) {
    log_warning("mail is not configured: recovery_start, verify_email_* and "
                "change_email_* answer unavailable; start the node with "
                "--smtp-url (and --mail-from) to send codes");
    return true;
  }
  if (!s.smtp_password_file.empty()) {
    read_passphrase_file(s.smtp_password_file, error, "--smtp-password-file");
    if (!error.empty()) {
      log_error(error);
      return false;
    }
  }
  auto setup = std::make_shared<mail_setup>();
  setup->keys = keys;
  setup->templates = std::move(*templates);
  setup->app_url = s.app_url;
  setup->code_ttl = s.code_ttl;
  setup->mails_per_hour = s.recovery_mails;
  out = std::move(setup);
  return true;
}

caf::actor start_mailer(caf::actor_system& sys, const node_settings& s,
                        const database_actor& db,
                        std::shared_ptr<node_counters> counters) {
  if (!s.mail())
    return caf::actor{};
  mailer_settings m;
  m.smtp.url = s.smtp_url;
  m.smtp.user = s.smtp_user;
  if (!s.smtp_password_file.empty()) {
    std::string error; // checked by load_mail_setup
    m.smtp.password = secret{
      read_passphrase_file(s.smtp_password_file, error, "--smtp-password-file")};
  }
  m.smtp.from = s.mail_from;
  m.smtp.insecure = s.smtp_insecure;
  m.retry_first = s.mail_retry;
  m.max_age = s.mail_max_age;
  auto mailer = spawn_mailer(sys, std::move(m),
                             caf::actor_cast<outbox_actor>(db),
                             std::move(counters));
  caf::anon_send(db, mailer_atom::value, mailer);
  // Not the URL: it may carry credentials.
  log_info("mail: on, from " + s.mail_from);
  return caf::actor_cast<caf::actor>(mailer);
}

} // namespace authnode
