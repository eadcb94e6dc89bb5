// rappel's command line. Replaced by the full CLI in the core work.
#include <iostream>

int main() {
  std::cout << "rappel " << RAPPEL_VERSION << "\n";
  return 0;
}
