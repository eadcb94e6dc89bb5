// Reading hiredis replies, for the asynchronous client's callbacks and the synchronous helper.
#pragma once

#include <string>

#include <hiredis/hiredis.h>

namespace rappel {

std::string reply_string(const redisReply* r);  // string/status/integer as text; "" otherwise
long long reply_integer(const redisReply* r);   // integer, or a string holding one; 0 otherwise

}  // namespace rappel
