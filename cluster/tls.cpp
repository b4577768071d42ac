#include "cluster/tls.hpp"

#include <fstream>
#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace authnode {

namespace {

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* x) const {
    Free(x);
  }
};

using bio_ptr = std::unique_ptr<BIO, freer<BIO, BIO_free_all>>;
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;
using key_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using store_ptr = std::unique_ptr<X509_STORE, freer<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr
  = std::unique_ptr<X509_STORE_CTX, freer<X509_STORE_CTX, X509_STORE_CTX_free>>;

/// OpenSSL's reason for the last failure, and its error queue emptied.
std::string openssl_reason() {
  auto code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown reason";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

/// Never prompts on a terminal: an encrypted key without a passphrase fails.
int no_prompt(char*, int, int, void*) {
  return -1;
}

} // namespace

std::string check_tls_files(const tls_files& files) {
  ERR_clear_error();
  bio_ptr cert_in{BIO_new_file(files.cert.c_str(), "r")};
  if (!cert_in)
    return "--tls-cert " + files.cert + ": cannot open it";
  x509_ptr cert{PEM_read_bio_X509(cert_in.get(), nullptr, nullptr, nullptr)};
  if (!cert)
    return "--tls-cert " + files.cert + ": not a PEM certificate ("
      + openssl_reason() + ")";
  bio_ptr key_in{BIO_new_file(files.key.c_str(), "r")};
  if (!key_in)
    return "--tls-key " + files.key + ": cannot open it";
  auto pass = const_cast<char*>(files.passphrase.c_str());
  key_ptr key{files.passphrase.empty()
                ? PEM_read_bio_PrivateKey(key_in.get(), nullptr, no_prompt,
                                          nullptr)
                : PEM_read_bio_PrivateKey(key_in.get(), nullptr, nullptr,
                                          pass)};
  if (!key)
    return "--tls-key " + files.key
      + ": cannot read the private key (encrypted without "
        "--tls-passphrase-file, or a wrong passphrase? "
      + openssl_reason() + ")";
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return "--tls-key " + files.key + ": does not belong to --tls-cert "
      + files.cert;
  }
  store_ptr store{X509_STORE_new()};
  if (!store || X509_STORE_load_file(store.get(), files.ca.c_str()) != 1)
    return "--tls-ca " + files.ca + ": cannot load CA certificates from it ("
      + openssl_reason() + ")";
  store_ctx_ptr ctx{X509_STORE_CTX_new()};
  if (!ctx
      || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr)
           != 1)
    return "cannot check --tls-cert against --tls-ca (" + openssl_reason()
      + ")";
  if (X509_verify_cert(ctx.get()) != 1) {
    auto reason = X509_verify_cert_error_string(
      X509_STORE_CTX_get_error(ctx.get()));
    ERR_clear_error();
    return "--tls-cert " + files.cert + ": not valid under --tls-ca "
      + files.ca + " (" + reason + ")";
  }
  return {};
}

std::string read_passphrase_file(const std::string& path, std::string& error,
                                 const char* option) {
  std::ifstream in{path};
  if (!in) {
    error = std::string{option} + " " + path + ": cannot read it";
    return {};
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line.empty())
    error = std::string{option} + " " + path + ": the first line is empty";
  return line;
}

} // namespace authnode
