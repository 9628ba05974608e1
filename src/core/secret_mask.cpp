// Masking of secrets in text the daemon keeps or shows.
#include "redundancy/core/secret_mask.hpp"

#include <algorithm>

namespace redundancy {

void secret_mask::set(std::vector<std::string> secrets) {
  std::erase_if(secrets, [](const std::string& s) { return s.empty(); });
  std::sort(secrets.begin(), secrets.end(),
            [](const auto& a, const auto& b) { return a.size() != b.size() ? a.size() > b.size() : a < b; });
  secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
  secrets_ = std::move(secrets);
}

std::string secret_mask::apply(std::string text) const {
  for (const auto& secret : secrets_)
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  return text;
}

}  // namespace redundancy
