// E-mail addresses as rappel accepts them: the RFC 5321 dot-atom forms that every relay takes
// (no quoted local parts, no address literals, a domain of DNS labels), so that an address the
// intake or the configuration accepted is never refused at send time for its shape.
#pragma once

#include <string>
#include <string_view>

namespace rappel {

// A domain of DNS labels (letters, digits, hyphens; at least two labels), not an IP address.
bool is_valid_domain(std::string_view domain);
// local-part@domain, the local part a dot-atom of at most 64 bytes, 254 bytes in all.
bool is_valid_email_address(std::string_view address);

// The bare address of a From setting for MAIL FROM: "RDV Solidarités <rdv@cd62.fr>" ->
// "rdv@cd62.fr".
std::string envelope_address(std::string_view from);

}  // namespace rappel
