// Loading and atomically saving the github subsystem's handled failures and last backups.
#include "redundancy/github/backup_memory.hpp"

#include <boost/json.hpp>

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/small_file.hpp"

namespace redundancy::github {

backup_memory::backup_memory(std::filesystem::path file) : file_(std::move(file)) {
  const auto text = read_small_file(file_);
  if (!text) return;
  boost::system::error_code ec;
  auto v = boost::json::parse(*text, ec);
  const auto* root = ec ? nullptr : v.if_object();
  const auto* workflows = root ? root->if_contains("workflows") : nullptr;
  if (!workflows || !workflows->is_object()) {
    RLOG("github", warning) << file_.string() << " is unreadable; starting with no handled failures";
    return;
  }
  for (const auto& [name, value] : workflows->get_object()) {
    const auto* o = value.if_object();
    if (!o) continue;
    entry e;
    if (const auto* h = o->if_contains("handled"); h && h->is_string()) e.handled = std::string(h->get_string());
    if (const auto* b = o->if_contains("last_backup"); b && b->is_object()) e.last_backup = b->get_object();
    entries_[std::string(name)] = std::move(e);
  }
}

std::string backup_memory::handled(const std::string& workflow) const {
  auto it = entries_.find(workflow);
  return it == entries_.end() ? std::string() : it->second.handled;
}

std::optional<boost::json::object> backup_memory::last_backup(const std::string& workflow) const {
  auto it = entries_.find(workflow);
  return it == entries_.end() ? std::nullopt : it->second.last_backup;
}

std::optional<std::string> backup_memory::remember(const std::string& workflow, const std::string& key,
                                                   boost::json::object backup) {
  auto& e = entries_[workflow];
  e.handled = key;
  e.last_backup = std::move(backup);
  return save();
}

std::optional<std::string> backup_memory::remember_backup(const std::string& workflow, boost::json::object backup) {
  entries_[workflow].last_backup = std::move(backup);
  return save();
}

std::optional<std::string> backup_memory::save() const {
  boost::json::object workflows;
  for (const auto& [name, e] : entries_) {
    boost::json::object o{{"handled", e.handled}};
    if (e.last_backup) o["last_backup"] = *e.last_backup;
    workflows[name] = std::move(o);
  }
  const boost::json::object root{{"workflows", std::move(workflows)}};
  auto err = write_file_atomically(file_, boost::json::serialize(root), 0600);
  if (err) RLOG("github", error) << "cannot save " << file_.string() << ": " << *err;
  return err;
}

}  // namespace redundancy::github
