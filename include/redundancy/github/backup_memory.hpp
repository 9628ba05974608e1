// What survives a daemon restart for the github subsystem: per workflow, the failure a backup
// already handled (so one failed run never triggers twice) and the last backup's outcome. Kept in
// <state_dir>/github-backups.json, written atomically.
#pragma once
#include <boost/json/object.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace redundancy::github {

class backup_memory {
 public:
  // Reads the file if it exists; a missing or unreadable file is an empty memory (logged).
  explicit backup_memory(std::filesystem::path file);

  // The failure key last handled for the workflow; empty when none.
  std::string handled(const std::string& workflow) const;
  // {"at", "mode", "ok", "summary"} of the last backup, or nullopt.
  std::optional<boost::json::object> last_backup(const std::string& workflow) const;

  // Records a handled failure and its backup, and writes the file. Returns why writing failed.
  std::optional<std::string> remember(const std::string& workflow, const std::string& key, boost::json::object backup);
  // Records a backup that handles no failure (a person's trigger).
  std::optional<std::string> remember_backup(const std::string& workflow, boost::json::object backup);

 private:
  struct entry {
    std::string handled{};
    std::optional<boost::json::object> last_backup{};
  };
  std::optional<std::string> save() const;

  std::filesystem::path file_;
  std::map<std::string, entry> entries_{};
};

}  // namespace redundancy::github
