// End to end: user_import on the admin port with hashes made by passlib
// (support/passlib_hashes), logins with them on the public port, the rehash
// to the node's argon2id after the first successful login, update, the
// limits of a batch, and a crash in the middle of an import.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <thread>

#include "support/admin_client.hpp"
#include "support/db_peek.hpp"
#include "support/passlib_hashes.hpp"
#include "support/secret_registry.hpp"

using namespace authnode::test;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

/// What the node makes with fast_options(): --hash-ops=1 --hash-mem=8192.
const std::string node_argon2id = "$argon2id$v=19$m=8,t=1,p=1$";

std::string email_of(size_t i) {
  return "imported" + std::to_string(i) + "@example.org";
}

/// One row of `users`; the hash is registered as a secret, so that every
/// node's log is checked for it when the test ends.
json user_row(const std::string& email, const std::string& hash,
              const std::string& name = "Imported") {
  secret_registry::global().add("hash", hash);
  return {{"email", email}, {"name", name}, {"hash", hash}};
}

json import(admin_client& a, json users, bool update = false) {
  return a.call({{"op", "user_import"}, {"users", users}, {"update", update}});
}

/// One user per passlib format, user i with passlib_hashes[i].
json every_format() {
  json users = json::array();
  for (size_t i = 0; i < passlib_hashes.size(); ++i)
    users.push_back(user_row(email_of(i), passlib_hashes[i].hash));
  return users;
}

/// user_show's hash_scheme once it is `scheme`, or what it last was after
/// `limit`: the rehash is stored after the login's reply.
std::string wait_for_scheme(admin_client& a, const std::string& email,
                            const std::string& scheme,
                            milliseconds limit = milliseconds(10000)) {
  auto deadline = steady_clock::now() + limit;
  for (;;) {
    auto now = show_user(a, email)["user"].value("hash_scheme", "?");
    if (now == scheme || steady_clock::now() >= deadline)
      return now;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

} // namespace

TEST_CASE("imported users of every format log in and are re-hashed to "
          "argon2id") {
  node_process node; // throttling on, --failure-delay=300ms
  admin_client a{node};
  auto reply = import(a, every_format());
  REQUIRE(succeeded(reply));
  CHECK(reply["imported"] == passlib_hashes.size());
  CHECK(reply["updated"] == 0);
  CHECK(reply["skipped"] == 0);
  CHECK(reply["rejected"] == json::array());
  for (size_t i = 0; i < passlib_hashes.size(); ++i) {
    INFO(passlib_hashes[i].label);
    auto shown = show_user(a, email_of(i))["user"];
    CHECK(shown["hash_scheme"] == passlib_hashes[i].scheme);
    CHECK(shown["last_login_at"].is_null());
  }

  // A wrong password fails like any other: late, the same reply as for an
  // unknown email, audited. Each from a source of its own, all at once.
  std::vector<std::unique_ptr<line_client>> clients;
  auto start = steady_clock::now();
  for (size_t i = 0; i <= passlib_hashes.size(); ++i) {
    clients.push_back(std::make_unique<line_client>(
      node.port(), "127.0.0." + std::to_string(10 + i)));
    auto email = i < passlib_hashes.size() ? email_of(i) : "nobody@example.org";
    clients[i]->send(
      with_id("wrong", login_request(email, "wrong battery staple")));
  }
  auto unknown = clients.back()->read_reply("wrong");
  for (size_t i = 0; i < passlib_hashes.size(); ++i) {
    INFO(passlib_hashes[i].label);
    CHECK(clients[i]->read_reply("wrong") == unknown);
  }
  CHECK(error_code(unknown) == "invalid_credentials");
  CHECK(steady_clock::now() - start >= milliseconds(290));
  CHECK(node.log().find("\"account\":\"" + email_of(0)
                        + "\",\"reason\":\"wrong password\"")
        != std::string::npos);

  // The right password logs in (after the account's penalty), and the
  // stored hash becomes the node's own argon2id.
  for (size_t i = 0; i < passlib_hashes.size(); ++i)
    clients[i]->send(
      with_id("right", login_request(email_of(i), passlib_password)));
  for (size_t i = 0; i < passlib_hashes.size(); ++i) {
    INFO(passlib_hashes[i].label);
    auto granted = clients[i]->read_reply("right");
    REQUIRE(succeeded(granted));
    CHECK(granted["user"]["email"] == email_of(i));
    CHECK(wait_for_scheme(a, email_of(i), "argon2id") == "argon2id");
    auto stored = wait_for_stored_hash(node.db_dir() + "/auth.db", email_of(i),
                                       [](const std::string& h) {
                                         return h.rfind(node_argon2id, 0) == 0;
                                       });
    CHECK(stored.rfind(node_argon2id, 0) == 0);
    CHECK(stored != passlib_hashes[i].hash);
    // The same password again, now against the new hash.
    CHECK(succeeded(login(*clients[i], email_of(i), passlib_password)));
    CHECK(error_code(login(*clients[i], email_of(i), "wrong battery staple"))
          == "invalid_credentials");
  }
  CHECK(node.log().find("\"reason\":\"password, re-hashing\"")
        != std::string::npos);
}

TEST_CASE("user_import rejects rows by index and imports the rest") {
  node_process node;
  admin_client a{node};
  auto bcrypt = passlib_hashes[3].hash;
  auto long_hash = bcrypt + std::string(140, 'a');
  json users = {
    user_row("ok0@example.org", bcrypt),
    user_row("not-an-email", bcrypt),
    user_row("blank@example.org", bcrypt, " \t "),
    user_row("unknown@example.org", "$1$abc$Kb85XxsXB.VXinPhbS4431"),
    user_row("truncated@example.org", bcrypt.substr(0, 40)),
    user_row("long@example.org", long_hash),
    user_row(" OK0@Example.org ", passlib_hashes[6].hash),
    json{{"email", "late@example.org"},
         {"name", "Late"},
         {"hash", bcrypt},
         {"created_at", 99999999999}},
    json{{"email", "typed@example.org"}, {"name", "T"}, {"hash", 42}},
    json{{"email", "old@example.org"},
         {"name", " Old "},
         {"hash", bcrypt},
         {"created_at", 1500000000}},
  };
  auto reply = import(a, users);
  REQUIRE(succeeded(reply));
  CHECK(reply["imported"] == 2);
  std::map<int, std::string> codes;
  for (auto& r : reply["rejected"]) {
    codes[r["index"].get<int>()] = r["code"];
    // A message never quotes the hash, not even a part of it.
    CHECK(r["message"].get<std::string>().find(bcrypt.substr(7, 12))
          == std::string::npos);
  }
  CHECK(codes
        == std::map<int, std::string>{{1, "bad_email"},
                                      {2, "bad_name"},
                                      {3, "bad_hash"},
                                      {4, "bad_hash"},
                                      {5, "bad_hash"},
                                      {6, "duplicate"},
                                      {7, "bad_created_at"},
                                      {8, "bad_hash"}});
  auto old = show_user(a, "old@example.org")["user"];
  CHECK(old["name"] == "Old");
  CHECK(old["created_at"] == "2017-07-14T02:40:00Z");
  CHECK(show_user(a, "ok0@example.org")["user"]["hash_scheme"] == "bcrypt");
  CHECK(error_code(show_user(a, "long@example.org")) == "no_such_user");
  CHECK(node.log().find(long_hash) == std::string::npos);
}

TEST_CASE("user_import with update replaces name and hash and ends sessions") {
  node_process node;
  admin_client a{node};
  auto email = email_of(0);
  REQUIRE(import(a, {user_row(email, passlib_hashes[3].hash)})["imported"]
          == 1);
  line_client pub{node.port()};
  auto token = session_token(pub, email, passlib_password);
  REQUIRE(succeeded(whoami(pub, token)));

  // Without update: skipped, nothing changes.
  auto other = user_row(email, passlib_other_sha512, "Renamed");
  auto again = import(a, {other});
  CHECK(again["skipped"] == 1);
  CHECK(again["updated"] == 0);
  CHECK(succeeded(whoami(pub, token)));

  // With update: the new hash, and the session is gone (the node's session
  // cache too: whoami had been answered from it).
  auto replaced = import(a, {other}, true);
  CHECK(replaced["updated"] == 1);
  CHECK(replaced["imported"] == 0);
  CHECK(replaced["skipped"] == 0);
  CHECK(error_code(whoami(pub, token)) == "invalid_token");
  auto shown = show_user(a, email)["user"];
  CHECK(shown["name"] == "Renamed");
  CHECK(shown["hash_scheme"] == "sha512_crypt");
  CHECK(shown["sessions"] == 0);
  CHECK(node.log().find("\"account\":\"" + email
                        + "\",\"reason\":\"hash replaced, sessions revoked\"")
        != std::string::npos);
  // Running the same update again changes nothing.
  auto rerun = import(a, {other}, true);
  CHECK(rerun["skipped"] == 1);
  CHECK(rerun["updated"] == 0);

  line_client fresh{node.port(), "127.0.0.2"};
  CHECK(error_code(login(fresh, email, passlib_password))
        == "invalid_credentials");
  CHECK(succeeded(login(fresh, email, passlib_other_password)));
}

TEST_CASE("a user_import of 1001 users or without a users array is "
          "bad_request") {
  node_process node;
  admin_client a{node};
  json users = json::array();
  for (size_t i = 0; i < 1001; ++i)
    users.push_back(user_row(email_of(i), passlib_other_bcrypt));
  auto reply = import(a, users);
  CHECK(error_code(reply) == "bad_request");
  CHECK(reply["error"]["message"] == "users must have at most 1000 entries");
  CHECK(error_code(show_user(a, email_of(0))) == "no_such_user");
  for (json bad : {json("a@example.org"), json::object(), json(nullptr)})
    CHECK(error_code(import(a, bad)) == "bad_request");
  CHECK(error_code(a.call({{"op", "user_import"}})) == "bad_request");
  // 1000 is allowed, on one line of about 100 KB.
  users.erase(users.size() - 1);
  reply = import(a, users);
  CHECK(reply["imported"] == 1000);
  CHECK(user_count(node.db_dir() + "/auth.db") == 1000);
}

TEST_CASE("user_import without the right admin key is forbidden") {
  node_process node;
  line_client c{node.admin_port()};
  for (json key : {json("wrong"), json(nullptr)}) {
    json request{{"op", "user_import"},
                 {"users", {user_row(email_of(0), passlib_other_bcrypt)}}};
    if (!key.is_null())
      request["admin_key"] = key;
    auto start = steady_clock::now();
    auto reply = c.call(request);
    CHECK(error_code(reply) == "forbidden");
    CHECK(steady_clock::now() - start >= milliseconds(290));
  }
  admin_client a{node};
  CHECK(error_code(show_user(a, email_of(0))) == "no_such_user");
}

TEST_CASE("a node killed during an import keeps whole batches only") {
  constexpr size_t batch_size = 200;
  constexpr size_t batches = 40;
  temp_dir dir;
  size_t acknowledged = 0;
  {
    node_process node{fast_options(), dir.path()};
    admin_client a{node};
    // Pipelined: the node always has the next batch at hand.
    for (size_t b = 0; b < batches; ++b) {
      json users = json::array();
      for (size_t i = 0; i < batch_size; ++i)
        users.push_back(
          user_row(email_of(b * batch_size + i), passlib_other_bcrypt));
      a.c.send({{"id", b},
                {"op", "user_import"},
                {"admin_key", a.key},
                {"users", users}});
    }
    for (; acknowledged < batches / 4; ++acknowledged) {
      auto reply = a.c.read_reply(acknowledged);
      INFO(reply.dump());
      REQUIRE(reply["imported"] == batch_size);
    }
    node.kill_hard();
    // Replies already on their way count as acknowledged too.
    while (auto line = a.c.read_line(milliseconds(200)))
      if (json::parse(*line).value("imported", 0) == int(batch_size))
        ++acknowledged;
  }
  auto count = user_count(dir.path() + "/auth.db");
  INFO(count << " users after " << acknowledged << " acknowledged batches");
  CHECK(count % batch_size == 0);
  CHECK(count >= static_cast<int64_t>(acknowledged * batch_size));
  // A node on the same files goes on where it stopped: re-running the whole
  // import skips what is there and adds the rest.
  node_process node{fast_options(), dir.path()};
  admin_client a{node};
  json last = json::array();
  for (size_t i = 0; i < batch_size; ++i)
    last.push_back(
      user_row(email_of((batches - 1) * batch_size + i), passlib_other_bcrypt));
  auto reply = import(a, last);
  CHECK(reply["imported"].get<int64_t>() + reply["skipped"].get<int64_t>()
        == int64_t{batch_size});
}
