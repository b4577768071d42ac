// authctl: the operator's command line for authnode. It talks to the admin
// port (with the key from the node's key file) and to the public port;
// docs/operations.md ("authctl") has every command and exit code. The
// commands are in ctl/; this file maps the command line onto them.
#include <iostream>

#include <CLI/CLI.hpp>
#include <sodium.h>

#include "ctl/commands.hpp"

using namespace authnode::ctl;

namespace {

/// Adds the positional EMAIL every user and sessions command takes.
CLI::Option* add_email(CLI::App* cmd, std::string& email) {
  return cmd->add_option("email", email, "the account's email")->required();
}

/// --progress and --no-progress into `progress`: 1, 0, or -1 when neither
/// is given (a bar when stderr is a terminal). A flag function, because
/// CLI11 2.1 sets an int flag to 0 when it is absent and to -1 for the
/// negated name, which read as "never" by default and "auto" for
/// --no-progress.
void add_progress_flags(CLI::App* cmd, int& progress) {
  cmd->add_flag_function(
    "--progress,!--no-progress",
    [&progress](int64_t n) {
      progress = n > 0 ? 1 : 0;
    },
    "show a progress bar (default: on a terminal)");
}

void add_connection_options(CLI::App& app, ctl_options& o) {
  auto group = "Where the node is";
  app.add_option("--host", o.host, "public address of the node")
    ->envname("AUTHNODE_HOST")
    ->capture_default_str()
    ->group(group);
  app.add_option("--port", o.port, "public port of the node")
    ->envname("AUTHNODE_PORT")
    ->capture_default_str()
    ->group(group);
  app.add_option("--admin-host", o.admin_host, "address of the admin channel")
    ->envname("AUTHNODE_ADMIN_HOST")
    ->capture_default_str()
    ->group(group);
  app.add_option("--admin-port", o.admin_port, "port of the admin channel")
    ->envname("AUTHNODE_ADMIN_PORT")
    ->capture_default_str()
    ->group(group);
  app
    .add_option("--key-file", o.key_file,
                "the node's admin key file (made by the node next to its "
                "database)")
    ->envname("AUTHNODE_ADMIN_KEY_FILE")
    ->capture_default_str()
    ->group(group);
  app
    .add_option("--timeout", o.timeout,
                "seconds to wait for the node (default: 30, longer for "
                "login, import and backup)")
    ->check(CLI::PositiveNumber)
    ->group(group);
  app.add_flag("--json", o.json,
               "print the node's answer as JSON (one object per line)");
}

} // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "authctl: libsodium cannot be initialised\n";
    return exit_usage;
  }
  CLI::App app{"authctl: operator commands for an authnode node, through its "
               "admin channel (and its public port for ping and login).\n"
               "Exit codes: 0 ok, 1 the node refused, 2 bad usage (or a file "
               "that cannot be read or written, a malformed corpus), 3 node "
               "unreachable, 4 admin key refused or unreadable, 5 import "
               "with rejected rows.",
               "authctl"};
  ctl_options o;
  add_connection_options(app, o);
  app.require_subcommand(1);
  // Options like --json may come after the subcommand, too.
  app.fallthrough();
  int rc = exit_ok;

  auto ping = app.add_subcommand("ping", "check that the public port answers");
  ping->callback([&] {
    rc = cmd_ping(o);
  });

  std::string email, name, prefix, source, account, throttle_kind, path,
    passkey_id;
  bool flag = false;
  auto login = app.add_subcommand(
    "login",
    "log in as a user (the password is asked for, or read from "
    "standard input when that is not a terminal)");
  add_email(login, email);
  login->add_flag("--keep-session", flag,
                  "keep the session and print its token (by default it is "
                  "ended again at once)");
  login->callback([&] {
    rc = cmd_login(o, email, flag);
  });

  auto user = app.add_subcommand("user", "look up and change accounts");
  user->require_subcommand(1);
  int64_t limit = 50;
  auto list = user->add_subcommand("list", "list accounts in email order");
  list->add_option("--prefix", prefix, "only emails that start with this");
  list->add_option("--limit", limit, "accounts per page, 1 to 1000")
    ->check(CLI::Range(1, 1000))
    ->capture_default_str();
  list->add_flag("--all", flag, "every page, not only the first");
  list->callback([&] {
    rc = cmd_user_list(o, prefix, limit, flag);
  });
  auto show = user->add_subcommand("show", "one account in detail");
  add_email(show, email);
  show->callback([&] {
    rc = cmd_user_show(o, email);
  });
  auto add = user->add_subcommand(
    "add",
    "add an account (the password is asked for twice, or read from "
    "standard input)");
  add_email(add, email);
  add->add_option("--name", name, "the user's name")->required();
  add->callback([&] {
    rc = cmd_user_add(o, email, name);
  });
  auto passwd = user->add_subcommand(
    "passwd", "set a new password; ends every session of the account");
  add_email(passwd, email);
  passwd->callback([&] {
    rc = cmd_user_passwd(o, email);
  });
  auto disable = user->add_subcommand(
    "disable",
    "refuse the account's logins (like a wrong password) and end "
    "its sessions");
  add_email(disable, email);
  disable->callback([&] {
    rc = cmd_user_disable(o, email, true);
  });
  auto enable = user->add_subcommand("enable",
                                     "allow a disabled account again");
  add_email(enable, email);
  enable->callback([&] {
    rc = cmd_user_disable(o, email, false);
  });
  for (bool verified : {true, false}) {
    auto cmd = user->add_subcommand(
      verified ? "verify" : "unverify",
      verified ? "mark the account's address as proven (as a code mailed to "
                 "it would)"
               : "mark the account's address as not proven");
    add_email(cmd, email);
    cmd->callback([&, verified] {
      rc = cmd_user_verify(o, email, verified);
    });
  }
  auto mfa_reset = user->add_subcommand(
    "mfa-reset",
    "remove the account's second factors (TOTP and recovery codes), for a "
    "user who lost them; the password alone logs in again");
  add_email(mfa_reset, email);
  mfa_reset->callback([&] {
    rc = cmd_user_mfa_reset(o, email);
  });
  auto passkey_delete = user->add_subcommand(
    "passkey-delete",
    "delete one of the account's passkeys (its id as user show lists it)");
  add_email(passkey_delete, email);
  passkey_delete->add_option("--id", passkey_id, "the passkey's id")
    ->required();
  passkey_delete->callback([&] {
    rc = cmd_user_passkey_delete(o, email, passkey_id);
  });
  auto del = user->add_subcommand(
    "delete", "delete an account with its sessions and device tokens");
  add_email(del, email);
  del->add_flag("--yes", flag, "do not ask");
  del->callback([&] {
    rc = cmd_user_delete(o, email, flag);
  });

  auto sessions = app.add_subcommand("sessions", "a user's sessions");
  sessions->require_subcommand(1);
  auto slist = sessions->add_subcommand(
    "list", "sessions that have not expired (never their tokens)");
  add_email(slist, email);
  slist->callback([&] {
    rc = cmd_sessions_list(o, email);
  });
  auto revoke = sessions->add_subcommand("revoke", "end sessions at once");
  add_email(revoke, email);
  int64_t session_id = 0;
  auto id_opt = revoke
                  ->add_option("--id", session_id,
                               "the session to end (from sessions list)")
                  ->check(CLI::PositiveNumber);
  auto all_opt = revoke->add_flag("--all", flag, "end every session");
  id_opt->excludes(all_opt);
  revoke->callback([&] {
    if (!id_opt->count() && !all_opt->count())
      throw CLI::RequiredError("--id or --all");
    rc = cmd_sessions_revoke(
      o, email, id_opt->count() ? std::optional{session_id} : std::nullopt);
  });

  auto throttle = app.add_subcommand(
    "throttle", "what the throttle holds against an address or an account");
  throttle->require_subcommand(1);
  for (bool reset : {false, true}) {
    auto cmd = throttle->add_subcommand(
      reset ? "reset" : "show",
      reset ? "forget the failures of an address or account (the unlock "
              "after a false alarm)"
            : "failures, penalty and held logins of an address or account");
    auto s = cmd->add_option("--source", source, "an IP address");
    auto a = cmd->add_option("--account", account, "an email");
    s->excludes(a);
    cmd->add_option("--kind", throttle_kind,
                    "whose guesses: password (the default), recovery "
                    "(account recovery codes), code (verification and "
                    "email change codes), totp (second-factor codes) or "
                    "passkey (passkey sign-ins); the node refuses any other");
    cmd->callback([&, s, a, reset] {
      if (!s->count() && !a->count())
        throw CLI::RequiredError("--source or --account");
      rc = cmd_throttle(o, source, account, throttle_kind, reset);
    });
  }

  auto mail = app.add_subcommand("mail", "the node's outgoing mail");
  mail->require_subcommand(1);
  auto outbox = mail->add_subcommand(
    "outbox",
    "mails waiting for the SMTP relay: how many, the oldest one's age, most "
    "attempts, the last error (never an address, body or code)");
  outbox->callback([&] {
    rc = cmd_mail_outbox(o);
  });

  auto stats = app.add_subcommand("stats", "the node's counters");
  stats->callback([&] {
    rc = cmd_stats(o);
  });

  import_args imp;
  std::string format;
  auto import = app.add_subcommand(
    "import",
    "import users with the password hashes they have (argon2id, "
    "argon2i, bcrypt, sha512_crypt, sha256_crypt) from CSV or JSON "
    "Lines; safe to run again");
  import
    ->add_option("file", imp.path,
                 "CSV (header: email,name,hash[,"
                 "created_at]) or JSON Lines")
    ->required()
    ->check(CLI::ExistingFile);
  import
    ->add_option("--format", format, "csv or jsonl (default: from the name)")
    ->check(CLI::IsMember({"csv", "jsonl"}));
  import->add_flag("--update", imp.update,
                   "replace the name and hash of emails that exist (and end "
                   "their sessions) instead of skipping them");
  import
    ->add_option("--batch-size", imp.batch_size,
                 "users per batch, one transaction each")
    ->check(CLI::Range(1, 1000))
    ->capture_default_str();
  add_progress_flags(import, imp.progress);
  import->callback([&] {
    if (!format.empty())
      imp.format = format == "csv" ? import_format::csv : import_format::jsonl;
  rc = cmd_import(o, imp);
});

auto breached = app.add_subcommand(
  "breached", "the breached-password index: build it (offline), or have "
              "the node map it again");
breached->require_subcommand(1);
breached_build_args brb;
auto brbuild = breached->add_subcommand(
  "build",
  "build the index from Have I Been Pwned's Pwned Passwords text "
  "(<40 hex SHA-1>:<count> a line, ordered by hash)");
brbuild->add_option("corpus", brb.corpus, "the Pwned Passwords text file")
  ->required()
  ->check(CLI::ExistingFile);
brbuild
  ->add_option("out", brb.out,
               "the index to write (replaced only when the new one is whole)")
  ->required();
brbuild->add_flag("--sort", brb.sort,
                  "accept the corpus in any order (sorted in bounded memory, "
                  "with temporary files next to OUT)");
brbuild
  ->add_option("--sort-memory", brb.sort_memory_mb,
               "with --sort: MiB of entries sorted in memory at a time")
  ->check(CLI::Range(1, 1 << 20))
  ->capture_default_str();
add_progress_flags(brbuild, brb.progress);
brbuild->callback([&] {
  rc = cmd_breached_build(o, brb);
});
auto brreload = breached->add_subcommand(
  "reload",
  "have the node's hashers map --breached-passwords again (after the file "
  "was replaced by rename); a bad new file leaves the old one in place");
brreload->callback([&] {
  rc = cmd_breached_reload(o);
});

migrate_args mig;
auto migrate = app.add_subcommand(
  "migrate",
  "copy the node's SQLite database into PostgreSQL (offline, with the "
  "nodes stopped or before they move); safe to run again");
migrate->add_option("--from", mig.from, "the node's SQLite file")
  ->required()
  ->check(CLI::ExistingFile);
migrate
  ->add_option("--to", mig.to,
               "the PostgreSQL database (URI or connection string)")
  ->required();
migrate
  ->add_option("--batch-size", mig.batch_size,
               "rows per batch, one transaction each")
  ->check(CLI::Range(1, 100000))
  ->capture_default_str();
add_progress_flags(migrate, mig.progress);
migrate->callback([&] {
  rc = cmd_migrate(o, mig);
});

auto backup = app.add_subcommand(
  "backup",
  "write a consistent copy of the live database (the node keeps "
  "serving meanwhile)");
backup
  ->add_option("path", path,
               "where the node writes the copy; must not "
               "exist")
  ->required();
backup->callback([&] {
  rc = cmd_backup(o, path);
});

try {
  app.parse(argc, argv);
} catch (const CLI::ParseError& e) {
  int code = app.exit(e);
  return code == 0 ? exit_ok : exit_usage;
} catch (const key_file_error& e) {
  std::cerr << "authctl: " << e.what() << '\n';
  return exit_forbidden;
} catch (const link_error& e) {
  std::cerr << "authctl: " << e.what() << '\n';
  return exit_unreachable;
}
return rc;
}
