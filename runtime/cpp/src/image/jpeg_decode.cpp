// JPEG -> RGB uint8 with libjpeg(-turbo), set up as Pillow's JpegDecode.c sets it up:
// - libjpeg guesses the colour space from the markers (Pillow passes no jpegmode); output RGB for
//   3 components, grayscale for 1 (then repeated), CMYK for 4 (libjpeg turns YCCK into CMYK),
//   read as Adobe-inverted ("CMYK;I") and converted with Pillow's cmyk2rgb; other component
//   counts and precisions other than 8 bits are refused, as Pillow refuses them;
// - the accurate integer IDCT (JDCT_ISLOW) and fancy upsampling: libjpeg's defaults, which Pillow
//   keeps unless draft() is called;
// - the whole file is in memory; if libjpeg asks for bytes past its end before the last scanline
//   is out, the file is truncated (Pillow's suspending reader hits end of file at that same
//   point: a missing EOI marker counts too, since the last MCU row then reads past the end);
// - after the last scanline, jpeg_finish_decompress reads on to EOI as in Pillow: a broken marker
//   there refuses the file, running out of bytes there does not;
// - warnings (corrupt data libjpeg recovers from) are ignored, as Pillow ignores them.
// Measured against Pillow 13 (libjpeg-turbo 3.2) with the system's libjpeg-turbo 2.1.5: equal
// pixels for 4:4:4, 4:2:2, 4:2:0, 4:4:0, 4:1:1, 3x1, 3x2 sampling, baseline / progressive /
// arithmetic coding, restart markers, gray, CMYK and odd sizes. One known difference: Pillow's
// suspending reader cannot decode arithmetic-coded JPEGs larger than its read buffer (libjpeg's
// arithmetic decoder does not suspend) and refuses them; here they decode.
// libjpeg reports errors with longjmp: the functions that call it hold only trivial locals.
#include <cstdio>
// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>

#include <csetjmp>
#include <cstring>
#include <vector>

#include "image/decode.hpp"

namespace frozenseg::image::detail {

namespace {

struct JpegReader {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr error{};
  jpeg_source_mgr source{};
  std::jmp_buf jump{};
  std::span<const std::uint8_t> bytes;
  bool created = false;
  bool rows_done = false;   // every scanline is out: only finish_decompress reads on
  bool truncated = false;   // ran out of bytes before that
  bool ended_early = false; // ran out of bytes after that (accepted, as Pillow does)
  char message[JMSG_LENGTH_MAX] = {};

  JpegReader() = default;
  JpegReader(const JpegReader&) = delete;
  JpegReader& operator=(const JpegReader&) = delete;
  ~JpegReader() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegReader* reader_of(j_common_ptr cinfo) { return static_cast<JpegReader*>(cinfo->client_data); }

extern "C" void jpeg_on_error(j_common_ptr cinfo) {
  JpegReader* r = reader_of(cinfo);
  (*cinfo->err->format_message)(cinfo, r->message);
  std::longjmp(r->jump, 1);
}

extern "C" void jpeg_on_message(j_common_ptr) {}  // warnings stay silent, as in Pillow

extern "C" void jpeg_source_noop(j_decompress_ptr) {}

// Called only once every byte of the file is consumed: decoding stops here; while scanlines are
// still owed, the file is truncated.
extern "C" boolean jpeg_fill_input(j_decompress_ptr cinfo) {
  JpegReader* r = reader_of(reinterpret_cast<j_common_ptr>(cinfo));
  if (r->rows_done) {
    r->ended_early = true;
  } else {
    r->truncated = true;
    std::snprintf(r->message, sizeof r->message, "image file is truncated");
  }
  std::longjmp(r->jump, 1);
}

extern "C" void jpeg_skip_input(j_decompress_ptr cinfo, long count) {
  if (count <= 0) return;
  jpeg_source_mgr* src = cinfo->src;
  if (static_cast<std::size_t>(count) > src->bytes_in_buffer) {
    src->next_input_byte += src->bytes_in_buffer;
    src->bytes_in_buffer = 0;
    (*src->fill_input_buffer)(cinfo);  // does not return
  }
  src->next_input_byte += count;
  src->bytes_in_buffer -= static_cast<std::size_t>(count);
}

bool read_header(JpegReader& r) {
  if (setjmp(r.jump)) return false;
  r.cinfo.err = jpeg_std_error(&r.error);
  r.error.error_exit = jpeg_on_error;
  r.error.output_message = jpeg_on_message;
  r.cinfo.client_data = &r;
  jpeg_create_decompress(&r.cinfo);
  r.created = true;
  r.source.init_source = jpeg_source_noop;
  r.source.fill_input_buffer = jpeg_fill_input;
  r.source.skip_input_data = jpeg_skip_input;
  r.source.resync_to_restart = jpeg_resync_to_restart;
  r.source.term_source = jpeg_source_noop;
  r.source.next_input_byte = r.bytes.data();
  r.source.bytes_in_buffer = r.bytes.size();
  r.cinfo.src = &r.source;
  jpeg_save_markers(&r.cinfo, JPEG_APP0, 0xFFFF);      // JFIF density
  jpeg_save_markers(&r.cinfo, JPEG_APP0 + 1, 0xFFFF);  // Exif and XMP
  jpeg_read_header(&r.cinfo, TRUE);
  return true;
}

enum class Output { Gray, Rgb, Cmyk };

// Pillow's MULDIV255 and cmyk2rgb, after the "CMYK;I" unpacker inverted every byte.
inline std::uint8_t muldiv255(int a, int b) {
  const int t = a * b + 128;
  return static_cast<std::uint8_t>(((t >> 8) + t) >> 8);
}

void cmyk_row_to_rgb(const std::uint8_t* in, std::uint8_t* out, std::size_t width) {
  for (std::size_t x = 0; x < width; ++x, in += 4, out += 3) {
    const int nk = 255 - (255 - in[3]);
    for (int c = 0; c < 3; ++c) {
      const int v = nk - muldiv255(255 - in[c], nk);
      out[c] = static_cast<std::uint8_t>(v <= 0 ? 0 : (v < 256 ? v : 255));
    }
  }
}

bool read_pixels(JpegReader& r, Output kind, std::uint8_t* scratch, RgbImage& out) {
  if (setjmp(r.jump)) return false;
  jpeg_start_decompress(&r.cinfo);
  const auto width = static_cast<std::size_t>(out.width());
  const bool direct = kind == Output::Rgb && r.cinfo.output_components == 3;
  while (r.cinfo.output_scanline < r.cinfo.output_height) {
    const auto y = static_cast<int>(r.cinfo.output_scanline);
    JSAMPROW row = direct ? out.row(y) : scratch;
    jpeg_read_scanlines(&r.cinfo, &row, 1);
    if (direct) continue;
    std::uint8_t* o = out.row(y);
    if (kind == Output::Cmyk) {
      cmyk_row_to_rgb(scratch, o, width);
    } else {
      const auto step = static_cast<std::size_t>(r.cinfo.output_components);
      for (std::size_t x = 0; x < width; ++x, o += 3) {
        const std::uint8_t* p = scratch + x * step;
        if (kind == Output::Gray) {
          o[0] = o[1] = o[2] = p[0];
        } else {
          o[0] = p[0];
          o[1] = p[1];
          o[2] = p[2];
        }
      }
    }
  }
  r.rows_done = true;
  jpeg_finish_decompress(&r.cinfo);  // markers up to EOI, as Pillow reads them
  return true;
}

OrientationSources jpeg_orientation_sources(const jpeg_decompress_struct& cinfo) {
  constexpr char kExif[] = {'E', 'x', 'i', 'f', 0, 0};
  constexpr char kXmp[] = "http://ns.adobe.com/xap/1.0/";  // followed by a NUL
  OrientationSources sources;
  bool jfif_dpi = false;
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    const std::span<const std::uint8_t> data(m->data, m->data_length);
    if (m->marker == JPEG_APP0) {  // Pillow: a JFIF density in dots per inch or per cm
      if (data.size() >= 12 && std::memcmp(data.data(), "JFIF", 4) == 0 &&
          (data[7] == 1 || data[7] == 2)) {
        jfif_dpi = true;
      }
      continue;
    }
    if (m->marker != JPEG_APP0 + 1) continue;
    if (data.size() >= 6 && std::memcmp(data.data(), kExif, 6) == 0) {
      if (!sources.exif) {
        sources.exif.emplace(data.begin(), data.end());
      } else {  // Pillow appends later Exif segments without their prefix
        sources.exif->insert(sources.exif->end(), data.begin() + 6, data.end());
      }
    } else if (data.size() >= sizeof kXmp && std::memcmp(data.data(), kXmp, sizeof kXmp) == 0) {
      sources.xmp.emplace(data.begin() + sizeof kXmp, data.end());
    }
  }
  sources.exif_errors_swallowed = sources.exif.has_value() && !jfif_dpi;
  return sources;
}

[[noreturn]] void fail_jpeg(const JpegReader& r, const DecodeContext& context) {
  if (r.truncated) fail_decode(context, "image file is truncated");
  fail_decode(context, std::string("broken JPEG data (libjpeg: ") + r.message + ")");
}

}  // namespace

bool looks_like_jpeg(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

RgbImage decode_jpeg(std::span<const std::uint8_t> bytes, const DecodeContext& context) {
  JpegReader r;
  r.bytes = bytes;
  if (!read_header(r)) fail_jpeg(r, context);

  jpeg_decompress_struct& cinfo = r.cinfo;
  if (cinfo.data_precision != 8) {
    fail_decode(context, "cannot handle " + std::to_string(cinfo.data_precision) + "-bit layers");
  }
  Output kind;
  switch (cinfo.num_components) {
    case 1:
      kind = Output::Gray;
      cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case 3:
      kind = Output::Rgb;
      cinfo.out_color_space = JCS_RGB;
      break;
    case 4:
      kind = Output::Cmyk;
      cinfo.out_color_space = JCS_CMYK;
      break;
    default:
      fail_decode(context, "cannot handle " + std::to_string(cinfo.num_components) + "-layer images");
  }
  check_size(cinfo.image_width, cinfo.image_height, context);
  const OrientationSources sources = jpeg_orientation_sources(cinfo);

  cinfo.dct_method = JDCT_ISLOW;
  cinfo.do_fancy_upsampling = TRUE;
  cinfo.scale_num = 1;
  cinfo.scale_denom = 1;

  RgbImage out(static_cast<int>(cinfo.image_height), static_cast<int>(cinfo.image_width));
  std::vector<std::uint8_t> scratch(static_cast<std::size_t>(cinfo.image_width) * 4);
  if (!read_pixels(r, kind, scratch.data(), out) && !r.ended_early) fail_jpeg(r, context);
  return orient(std::move(out), sources, context);
}

}  // namespace frozenseg::image::detail
