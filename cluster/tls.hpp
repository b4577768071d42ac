// TLS between nodes: the key material, checked before anything starts.
//
// CAF's OpenSSL module reads certificate, key and CA only when the first
// node connection is made, and then a key it cannot decrypt (a wrong
// passphrase) aborts the whole process, and a CA file without a
// certificate and key aborts it at start. With none of them set it falls
// back to anonymous encryption, which authenticates no one. So the node
// takes all three or none (config/node_settings.cpp), and this check loads
// them with OpenSSL itself at start: a certificate, a private key that opens
// with the passphrase and belongs to it, and a CA that signed it.
#pragma once

#include <string>

namespace authnode {

struct tls_files {
  std::string cert;
  std::string key;
  std::string ca;
  /// Empty: the key is not encrypted.
  std::string passphrase;
};

/// Empty when the files are usable, otherwise one line that says what is
/// wrong with which of them.
std::string check_tls_files(const tls_files& files);

/// The first line of `path` (a passphrase file), or nullopt-like empty
/// string with `error` set.
std::string read_passphrase_file(const std::string& path, std::string& error,
                                 const char* option = "--tls-passphrase-file");

} // namespace authnode
