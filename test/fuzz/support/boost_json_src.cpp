// Boost.JSON compiled into the fuzz build with the fuzzer's coverage (the Debian library is not
// instrumented, and coverage inside the JSON parser roughly doubles what the JSON targets explore).
#include <boost/json/src.hpp>
