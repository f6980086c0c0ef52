// Links libstdc++ members whose COMDAT copies differ: GNU ld's member load order
// decides which copy wins (tests/archives.rs).
#include <iostream>
#include <locale>
#include <sstream>
#include <string>
#include <stdexcept>
int main() {
  std::ostringstream os;
  os.imbue(std::locale::classic());
  const std::num_put<char>& np = std::use_facet<std::num_put<char>>(os.getloc());
  np.put(std::ostreambuf_iterator<char>(os), os, ' ', 12345L);
  os << ' ' << 2.5 << ' ' << std::hex << 255;
  std::cout << os.str() << std::endl;
  try { throw std::runtime_error("x"); } catch (std::exception &e) { std::cout << e.what() << "\n"; }
  std::wcout << L"wide " << 7 << std::endl;
  return 0;
}
