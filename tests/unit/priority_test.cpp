// The lane picker of priority.hpp: which priority takes each rate-limit slot. Higher first, but a
// lower priority that waits keeps its share, so a steady flow of reminders never starves bulk.
#include <catch2/catch.hpp>

#include "daemon/base/priority.hpp"

using namespace rappel;

namespace {

// Slots given to each lane out of `slots`, with every lane marked in `waiting` always non-empty.
std::array<int, kPriorities> share_out(int slots, std::array<bool, kPriorities> waiting,
                                       double share) {
  std::array<double, kPriorities> credits{};
  std::array<int, kPriorities> given{};
  for (int i = 0; i < slots; ++i) {
    int lane = pick_lane([&](int l) { return waiting[l]; }, credits, share);
    REQUIRE(lane >= 0);
    ++given[lane];
  }
  return given;
}

}  // namespace

TEST_CASE("slots go to the highest priority waiting, lower ones keep their share", "[priority]") {
  CHECK(share_out(100, {true, false, false}, 0.1) == std::array<int, 3>{100, 0, 0});
  CHECK(share_out(100, {false, false, true}, 0.1) == std::array<int, 3>{0, 0, 100});
  CHECK(share_out(100, {true, false, true}, 0.1) == std::array<int, 3>{90, 0, 10});
  auto all = share_out(100, {true, true, true}, 0.1);  // each lower one about a tenth
  CHECK(all[0] >= 80);
  CHECK(all[1] >= 9);
  CHECK(all[2] >= 9);
  CHECK(share_out(100, {false, true, true}, 0.25) == std::array<int, 3>{0, 75, 25});
  std::array<double, kPriorities> credits{};
  CHECK(pick_lane([](int) { return false; }, credits, 0.1) == -1);
}

TEST_CASE("a lane that stopped waiting earns no burst of slots", "[priority]") {
  std::array<double, kPriorities> credits{};
  bool bulk_waits = true;
  auto waiting = [&](int l) { return l == 0 || (l == 2 && bulk_waits); };
  for (int i = 0; i < 5; ++i) pick_lane(waiting, credits, 0.1);  // bulk earns half a slot
  bulk_waits = false;
  for (int i = 0; i < 100; ++i) CHECK(pick_lane(waiting, credits, 0.1) == 0);
  bulk_waits = true;
  int bulk = 0;
  for (int i = 0; i < 10; ++i) bulk += pick_lane(waiting, credits, 0.1) == 2;
  CHECK(bulk == 1);
}
