#include "core/cbor_bounds.hpp"

#include <cstdint>
#include <vector>

#include <cbor.h>

namespace authnode {

namespace {

struct bounds {
  std::vector<uint64_t> owed; ///< elements still to come, per open container
  uint64_t owed_total = 0;
  bool done = false;
  bool bad = false;
  size_t max_depth = 0;
  size_t input_size = 0; ///< no container can owe more (nor overflow a sum)

  /// One head, which fills a slot of the innermost open container; then
  /// `size` more heads owed to it if it is a container. A container stays
  /// open (and counts to the depth) until its last element is complete.
  void item(uint64_t size = 0) {
    if (!owed.empty()) {
      --owed.back();
      --owed_total;
    }
    if (size > input_size) {
      bad = true;
    } else if (size > 0) {
      owed.push_back(size);
      owed_total += size;
      bad = bad || owed.size() > max_depth;
    } else {
      while (!owed.empty() && owed.back() == 0)
        owed.pop_back();
    }
    done = owed.empty();
  }
};

bounds& of(void* ctx) {
  return *static_cast<bounds*>(ctx);
}

void on_item(void* ctx) {
  of(ctx).item();
}
template <class T>
void on_value(void* ctx, T) {
  of(ctx).item();
}
void on_string(void* ctx, cbor_data, size_t) {
  of(ctx).item();
}
void on_array(void* ctx, size_t size) {
  of(ctx).item(size);
}
void on_map(void* ctx, size_t size) {
  if (size > SIZE_MAX / 2)
    of(ctx).bad = true;
  else
    of(ctx).item(2 * static_cast<uint64_t>(size));
}
void on_refused(void* ctx) {
  of(ctx).bad = true;
}
void on_tag(void* ctx, uint64_t) {
  of(ctx).bad = true;
}

cbor_callbacks callbacks() {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = on_value<uint8_t>;
  cb.uint16 = on_value<uint16_t>;
  cb.uint32 = on_value<uint32_t>;
  cb.uint64 = on_value<uint64_t>;
  cb.negint8 = on_value<uint8_t>;
  cb.negint16 = on_value<uint16_t>;
  cb.negint32 = on_value<uint32_t>;
  cb.negint64 = on_value<uint64_t>;
  cb.byte_string = on_string; // definite
  cb.string = on_string;      // definite
  cb.array_start = on_array;  // definite
  cb.map_start = on_map;      // definite
  cb.float2 = on_value<float>;
  cb.float4 = on_value<float>;
  cb.float8 = on_value<double>;
  cb.undefined = on_item;
  cb.null = on_item;
  cb.boolean = on_value<bool>;
  cb.byte_string_start = on_refused; // indefinite lengths
  cb.string_start = on_refused;
  cb.indef_array_start = on_refused;
  cb.indef_map_start = on_refused;
  cb.indef_break = on_refused;
  cb.tag = on_tag;
  return cb;
}

} // namespace

bool cbor_item_bounded(std::string_view data, size_t& read, size_t max_depth) {
  static const cbor_callbacks cb = callbacks();
  bounds b;
  b.max_depth = max_depth;
  b.input_size = data.size();
  size_t pos = 0;
  // Each step reads one head (and a string's bytes), one byte at least.
  while (!b.done) {
    auto left = data.size() - pos;
    if (left == 0)
      return false;
    auto step = cbor_stream_decode(
      reinterpret_cast<cbor_data>(data.data()) + pos, left, &cb, &b);
    if (step.status != CBOR_DECODER_FINISHED || step.read == 0 || b.bad)
      return false;
    pos += step.read;
    if (b.owed_total > data.size() - pos)
      return false;
  }
  read = pos;
  return true;
}

} // namespace authnode
