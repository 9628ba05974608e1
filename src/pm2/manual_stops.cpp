// The apps stopped on purpose, in <state_dir>/pm2-manual-stops.json: a JSON array of app names.
#include "redundancy/pm2/manual_stops.hpp"

#include "redundancy/core/atomic_file.hpp"
#include "redundancy/core/log.hpp"
#include "redundancy/core/small_file.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace redundancy::pm2 {

manual_stops::manual_stops(std::filesystem::path file) : file_(std::move(file)) {
  std::error_code ec;
  if (!std::filesystem::exists(file_, ec)) return;
  const auto text = read_small_file(file_);
  boost::system::error_code jec;
  const auto doc = text ? boost::json::parse(*text, jec) : boost::json::value{};
  if (!text || jec || !doc.is_array()) {
    RLOG("pm2", warning) << file_.string() << ": not a JSON array of app names; no app is taken as stopped by hand";
    return;
  }
  for (const auto& v : doc.get_array())
    if (v.is_string() && !v.get_string().empty()) names_.emplace(v.get_string());
}

void manual_stops::add(const std::string& app) {
  if (names_.insert(app).second) save();
}

void manual_stops::remove(std::string_view app) {
  if (auto it = names_.find(app); it != names_.end()) {
    names_.erase(it);
    save();
  }
}

void manual_stops::save() const {
  boost::json::array names;
  for (const auto& n : names_) names.emplace_back(n);
  // Kept in memory when the write fails: the stop is respected until this daemon restarts.
  if (auto failed = write_file_atomically(file_, boost::json::serialize(names) + "\n"))
    RLOG("pm2", error) << "could not keep the apps stopped by hand: " << *failed;
}

}  // namespace redundancy::pm2
