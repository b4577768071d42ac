// Hashes of every imported format, made once by passlib 1.7.4 (Debian 12's
// python3-passlib, with python3-bcrypt and python3-argon2) at low but real
// costs, and checked in as literals: the tests must not depend on Python.
//
//   from passlib.hash import argon2, bcrypt, sha512_crypt, sha256_crypt
//   argon2.using(time_cost=2, memory_cost=256, parallelism=4).hash(pw)
//   bcrypt.using(rounds=4).hash(pw)
//   sha512_crypt.using(rounds=1000).hash(pw)   # rounds=5000: implicit
//   ...
#pragma once

#include <string>
#include <vector>

namespace authnode::test {

/// The password of every hash in passlib_hashes below.
inline const std::string passlib_password = "correct horse battery";

struct passlib_hash {
  std::string label;
  std::string scheme; ///< as user_show names it
  std::string hash;
};

inline const std::vector<passlib_hash> passlib_hashes = {
  {"argon2id with 4 lanes", "argon2id",
   "$argon2id$v=19$m=256,t=2,p=4$lnLu3fufM6aUcq5VCiFEyA$xBQ4iJRsvejkS3dzbseO/"
   "w"},
  {"argon2id with 1 lane", "argon2id",
   "$argon2id$v=19$m=64,t=1,p=1$qtX6v7fWOkfonZNS6n0PwQ$UL/3nFrRKMT5OMLVejuByg"},
  {"argon2i", "argon2i",
   "$argon2i$v=19$m=64,t=3,p=2$FKI0JmQMISTE+D+HUIoxJg$bl2saUwB90F5tKzXK5gjHg"},
  {"bcrypt $2b$", "bcrypt",
   "$2b$04$nYZI84GlCDmjyEo1HFzMeeV8tj6heGMJgnTEPeEJ//0cquTi5frXu"},
  {"bcrypt $2a$", "bcrypt",
   "$2a$05$CWDcGosweDgkx2kbpVuT7eEbd.8WWaSCI6DeyCU4u8xcZ/ra23Xi6"},
  {"bcrypt $2y$", "bcrypt",
   "$2y$04$2Y29Gt4axIh1Drj.satjuely.eObi7UkkcGpLSbshuiXRTfat.qZC"},
  {"sha512_crypt with rounds=", "sha512_crypt",
   "$6$rounds=1000$6ToDDfvaJNfHQf50$DktCjUu0r/pDj/"
   "gR2eWevvjcfV57aaUe8yO0Ygg8ULJEbLz5jHp5QGApKmxRWbNCAbmPpMEXTvkqxg96FLfaZ0"},
  {"sha512_crypt without rounds=", "sha512_crypt",
   "$6$amLWYgyoQ1hnGxeL$"
   "NAEdfDiiPEPbTuTDtNFrsokJrtLN6Nz9Uwe4YwfhcMlhsLLJFm4TmX51UrxwWZD7LYTV4WzQfkP"
   "jxkj0RV2eX0"},
  {"sha256_crypt with rounds=", "sha256_crypt",
   "$5$rounds=1000$.MxmnXgiszBC5ATU$"
   "Vv2cCjjGEh9MdfLdeM3KFQllOTRWZ36xzpDYe5vwD1."},
  {"sha256_crypt without rounds=", "sha256_crypt",
   "$5$iWJPJK5NjLYRaCH4$a7T5VzevS1b0GSZ9sEEOw5stLz0C8EX4fp.3Dc44ii0"},
};

/// A second password and passlib hashes of it, for replacing a hash.
inline const std::string passlib_other_password = "another battery staple";
inline const std::string passlib_other_sha512
  = "$6$rounds=1000$.m52RZtr5TzjpUH8$mt8u0ZN3oN1t1mTYefZ3RS3hQg/"
    "BxbYE73qOqUu0DeILJNxGOyKDQCm3Exhr3Ll7AU4XGVp0ZHhv1kTfvJq8.0";
inline const std::string passlib_other_bcrypt
  = "$2b$04$wl0Tm145w5GDKVvKp6RD3e4RBOdE7Hqych.Xq0FsXdtqzwPej2cYu";

} // namespace authnode::test
