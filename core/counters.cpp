#include "core/counters.hpp"

#include "actors/interfaces.hpp"

namespace authnode {

stats_snapshot take_stats(const node_counters& c,
                          std::chrono::steady_clock::time_point now) {
  stats_snapshot s;
#define AUTHNODE_READ_atomic(name) c.name.load()
#define AUTHNODE_READ_uptime(name)                                             \
  std::chrono::duration_cast<std::chrono::seconds>(now - c.started).count()
#define AUTHNODE_READ(name, source, ...) s.name = AUTHNODE_READ_##source(name);
  AUTHNODE_STATS(AUTHNODE_READ)
#undef AUTHNODE_READ
#undef AUTHNODE_READ_uptime
#undef AUTHNODE_READ_atomic
  s.breached_path = c.breached_path;
  return s;
}

} // namespace authnode
