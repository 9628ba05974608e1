// The one translation unit that compiles Asio, Beast and Process v2 (separate compilation keeps every
// other file from instantiating them again).
#include <boost/asio/impl/src.hpp>
#include <boost/process/v2/src.hpp>
