// Listing a project's workflows: the files in .github/workflows (or the ones the config names),
// each one resolved into that folder or left out saying why.
#include "redundancy/github/workflow.hpp"

#include <algorithm>

namespace redundancy::github {

namespace {

// True when `inner` is `outer` or below it, both already canonical.
bool lies_within(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

// Why `file` is not to be watched, or nothing when it may be: it must resolve into `dir`.
std::optional<std::string> outside_reason(const std::filesystem::path& file, const std::filesystem::path& dir) {
  std::error_code ec;
  const auto real_dir = std::filesystem::weakly_canonical(dir, ec);
  if (ec) return std::nullopt;  // no folder: nothing of it is read anyway
  const auto real = std::filesystem::weakly_canonical(file, ec);
  if (ec) return "cannot be resolved: " + ec.message();
  if (lies_within(real, real_dir)) return std::nullopt;
  const bool link = std::filesystem::is_symlink(file, ec);
  return std::string(link ? "a symlink to " : "") + real.string() + ", outside " + real_dir.string() + ": not watched";
}

}  // namespace

workflow_listing list_workflows(const std::filesystem::path& dir, const std::vector<std::string>& listed) {
  workflow_listing out;
  std::vector<std::filesystem::path> candidates;
  if (!listed.empty()) {
    for (const auto& name : listed) {
      std::filesystem::path p{name};
      candidates.push_back(p.is_absolute() ? p : dir / p.filename());
    }
  } else {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file(ec) && (ext == ".yml" || ext == ".yaml"))
        candidates.push_back(entry.path());
      else if (entry.is_symlink(ec) && (ext == ".yml" || ext == ".yaml"))
        candidates.push_back(entry.path());  // a dangling or odd link: refused below, with why
    }
    std::sort(candidates.begin(), candidates.end());
  }
  for (auto& file : candidates) {
    if (auto why = outside_reason(file, dir))
      out.refused.push_back({.file = std::move(file), .reason = std::move(*why)});
    else
      out.files.push_back(std::move(file));
  }
  return out;
}

std::vector<std::filesystem::path> workflow_files(const std::filesystem::path& dir,
                                                  const std::vector<std::string>& listed) {
  return list_workflows(dir, listed).files;
}

}  // namespace redundancy::github
