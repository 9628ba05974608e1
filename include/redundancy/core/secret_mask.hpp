// The secrets no stored or served text may show (the API token, the config's secrets, tokens from the
// environment), and their masking as "***".
#pragma once
#include <string>
#include <vector>

namespace redundancy {

class secret_mask {
 public:
  // Replaces the secrets masked from now on; empty ones are dropped.
  void set(std::vector<std::string> secrets);
  // text with every occurrence of every secret replaced by "***", the longest first (so one that
  // holds another is not left half shown).
  std::string apply(std::string text) const;

 private:
  std::vector<std::string> secrets_;  // longest first, no duplicates
};

}  // namespace redundancy
