// The apps a person stopped on purpose (`pm2 stop web`, `pm2 stop all`: PM2's bus announces a `stop` with
// `manually: true`), left stopped until they run again. Kept in a file of the state folder, so that a
// restart of this daemon does not undo the stop; written only when the set changes (a watch-mode app
// whose folder holds the state folder restarts on every write).
#pragma once
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace redundancy::pm2 {

class manual_stops {
 public:
  // Reads `file` when it exists; an unreadable one is logged and treated as empty.
  explicit manual_stops(std::filesystem::path file);

  bool contains(std::string_view app) const { return names_.contains(app); }
  void add(const std::string& app);
  void remove(std::string_view app);
  const std::set<std::string, std::less<>>& names() const { return names_; }

 private:
  void save() const;

  std::filesystem::path file_;
  std::set<std::string, std::less<>> names_{};
};

}  // namespace redundancy::pm2
