/* srm: Check tests of the streaming JSONL reader (runtime/srm_jsonl.c): terminators, BOM,
** blank lines, UTF-8 validation (cross-checked against utf8proc), the line cap, buffer-boundary
** stress against a generated reference, pipes, and srm_jsonl_count_records. */
#include "srm_jsonl.h"

#include "check_main.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utf8proc.h>

#define MiB ((size_t)1 << 20)

/* ---- helpers ---- */

static uint64_t rng_state;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static size_t rnd_below(size_t n) {
  return (size_t)(rnd() % n);
}

struct tmpfile {
  char path[64];
};

static void write_all(int fd, const char *data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    ck_assert_int_gt(w, 0);
    data += w;
    n -= (size_t)w;
  }
}

static void tmp_write(struct tmpfile *t, const char *data, size_t n) {
  strcpy(t->path, "/tmp/srm_jsonl_XXXXXX");
  int fd = mkstemp(t->path);
  ck_assert_int_ge(fd, 0);
  write_all(fd, data, n);
  ck_assert_int_eq(close(fd), 0);
}

#define TMP_LIT(t, lit) tmp_write((t), (lit), sizeof(lit) - 1)

static struct srm_jsonl_reader *open_ok(const struct tmpfile *t, size_t cap) {
  char err[256] = "";
  struct srm_jsonl_reader *r = srm_jsonl_open(t->path, cap, err, sizeof err);
  ck_assert_msg(r != NULL, "open failed: %s", err);
  return r;
}

/* Asserts the next line's every field. data NULL: data must be NULL (TOO_LONG, EOF). */
static void expect(struct srm_jsonl_reader *r, enum srm_line_kind kind, const char *data,
                   size_t len, uint64_t lineno, size_t bad) {
  struct srm_jsonl_line l;
  memset(&l, 0xA5, sizeof l);
  ck_assert_int_eq(srm_jsonl_next(r, &l), kind);
  ck_assert_int_eq(l.kind, kind);
  ck_assert_uint_eq(l.len, len);
  ck_assert_uint_eq(l.lineno, lineno);
  ck_assert_uint_eq(l.bad_offset, bad);
  if (data == NULL) {
    ck_assert_ptr_null(l.data);
  } else {
    ck_assert_ptr_nonnull(l.data);
    ck_assert(memcmp(l.data, data, len) == 0);
  }
}

#define EXPECT_OK(r, lit, lineno) expect((r), SRM_LINE_OK, (lit), sizeof(lit) - 1, (lineno), 0)
#define EXPECT_BAD(r, lit, lineno, off)                                                            \
  expect((r), SRM_LINE_BAD_UTF8, (lit), sizeof(lit) - 1, (lineno), (off))
#define EXPECT_EOF(r) expect((r), SRM_LINE_EOF, NULL, 0, 0, 0)

/* Reads the whole file and checks count_records agrees with the number of lines returned. */
static void check_count(const struct tmpfile *t, int64_t expected) {
  struct srm_jsonl_reader *r = open_ok(t, 0);
  struct srm_jsonl_line l;
  int64_t n = 0;
  while (srm_jsonl_next(r, &l) != SRM_LINE_EOF) {
    ck_assert_int_ne(l.kind, SRM_LINE_IO_ERROR);
    n++;
  }
  srm_jsonl_close(r);
  ck_assert_int_eq(n, expected);
  ck_assert_int_eq(srm_jsonl_count_records(t->path), expected);
}

static void file_size_is(const struct tmpfile *t, uint64_t size) {
  struct stat st;
  ck_assert_int_eq(stat(t->path, &st), 0);
  ck_assert_uint_eq((uint64_t)st.st_size, size);
}

/* ---- terminators, BOM, blank lines ---- */

START_TEST(crlf) {
  struct tmpfile t;
  TMP_LIT(&t, "{\"a\":1}\r\n{\"b\":2}\r\na\rb\r\nc\r\r\n{}\r\n");
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  EXPECT_OK(r, "{\"a\":1}", 1);
  EXPECT_OK(r, "{\"b\":2}", 2);
  EXPECT_OK(r, "a\rb", 3); /* an inner \r is data */
  EXPECT_OK(r, "c\r", 4);  /* only one \r belongs to the terminator */
  EXPECT_OK(r, "{}", 5);
  EXPECT_EOF(r);
  EXPECT_EOF(r); /* EOF is sticky */
  ck_assert_uint_eq(srm_jsonl_bytes_read(r), 31);
  ck_assert_str_eq(srm_jsonl_error(r), "");
  srm_jsonl_close(r);
  check_count(&t, 5);
  file_size_is(&t, 31);
  unlink(t.path);
}
END_TEST

START_TEST(bom_only_at_start) {
  struct tmpfile t;
  TMP_LIT(&t, "\xEF\xBB\xBF{\"a\":1}\n\xEF\xBB\xBF{\"b\":2}\n");
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  EXPECT_OK(r, "{\"a\":1}", 1);
  EXPECT_OK(r, "\xEF\xBB\xBF{\"b\":2}", 2); /* a BOM on line 2 is data (U+FEFF) */
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 2);
  unlink(t.path);

  /* a BOM then a blank first line: the blank line is skipped, line numbers stay physical */
  TMP_LIT(&t, "\xEF\xBB\xBF\r\n{}\r\n");
  r = open_ok(&t, 0);
  EXPECT_OK(r, "{}", 2);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 1);
  unlink(t.path);

  /* a blank first line: a BOM at the start of line 2 is no longer at the start of the file */
  TMP_LIT(&t, "\n\xEF\xBB\xBF{}");
  r = open_ok(&t, 0);
  EXPECT_OK(r, "\xEF\xBB\xBF{}", 2);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 1);
  unlink(t.path);

  /* only a BOM */
  TMP_LIT(&t, "\xEF\xBB\xBF");
  r = open_ok(&t, 0);
  EXPECT_EOF(r);
  ck_assert_uint_eq(srm_jsonl_bytes_read(r), 3);
  srm_jsonl_close(r);
  check_count(&t, 0);
  unlink(t.path);

  /* a partial BOM is data, and invalid UTF-8 at offset 0 */
  TMP_LIT(&t, "\xEF\xBB{}\n");
  r = open_ok(&t, 0);
  EXPECT_BAD(r, "\xEF\xBB{}", 1, 0);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 1);
  unlink(t.path);
}
END_TEST

START_TEST(blank_lines) {
  struct tmpfile t;
  TMP_LIT(&t, "\n  \n\t\r\n\r\n{\"a\":1}\n \t \n\n  {\"b\":2}\t\n\n\n");
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  EXPECT_OK(r, "{\"a\":1}", 5);
  EXPECT_OK(r, "  {\"b\":2}\t", 8); /* surrounding blanks of a record are kept */
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 2);
  unlink(t.path);
}
END_TEST

START_TEST(last_line_without_newline) {
  struct tmpfile t;
  TMP_LIT(&t, "{\"a\":1}\n{\"b\":2}");
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  EXPECT_OK(r, "{\"a\":1}", 1);
  EXPECT_OK(r, "{\"b\":2}", 2);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 2);
  unlink(t.path);

  TMP_LIT(&t, "\n\n{\"c\":3}\r");
  r = open_ok(&t, 0);
  EXPECT_OK(r, "{\"c\":3}", 3);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 1);
  unlink(t.path);

  TMP_LIT(&t, "{\"a\":1}\n   ");
  r = open_ok(&t, 0);
  EXPECT_OK(r, "{\"a\":1}", 1);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 1);
  unlink(t.path);
}
END_TEST

START_TEST(empty_file) {
  struct tmpfile t;
  tmp_write(&t, "", 0);
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  EXPECT_EOF(r);
  EXPECT_EOF(r);
  ck_assert_uint_eq(srm_jsonl_bytes_read(r), 0);
  srm_jsonl_close(r);
  check_count(&t, 0);
  unlink(t.path);
}
END_TEST

START_TEST(only_blank_lines) {
  struct tmpfile t;
  TMP_LIT(&t, "\n\n  \r\n\t\n\r\n \t\r \n");
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  EXPECT_EOF(r);
  ck_assert_uint_eq(srm_jsonl_bytes_read(r), 15);
  srm_jsonl_close(r);
  check_count(&t, 0);
  unlink(t.path);
}
END_TEST

START_TEST(nul_byte) {
  struct tmpfile t;
  TMP_LIT(&t, "{\"a\":\0}\n\0\n");
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  expect(r, SRM_LINE_OK, "{\"a\":\0}", 7, 1, 0);
  expect(r, SRM_LINE_OK, "\0", 1, 2, 0); /* NUL is not blank */
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 2);
  unlink(t.path);
}
END_TEST

/* ---- UTF-8 ---- */

START_TEST(utf8_variants) {
  struct tmpfile t;
  TMP_LIT(&t, "ab\xC0\x80"
              "cd\n"                           /* 1 overlong NUL */
              "x\xED\xA0\x80\n"                /* 2 surrogate U+D800 */
              "\xF5\x80\x80\x80\n"             /* 3 lead byte F5 */
              "abc\xE2\x82\n"                  /* 4 truncated at line end */
              "abc\xE2\x82\r\n"                /* 5 truncated before CRLF */
              "{\"e\":\"\xF0\x9F\x98\x80\"}\n" /* 6 emoji U+1F600 */
              "\xF4\x90\x80\x80\n"             /* 7 U+110000 */
              "\xF4\x8F\xBF\xBF\n"             /* 8 U+10FFFF */
              "\xE0\x80\x80\n"                 /* 9 overlong 3-byte */
              "\xF0\x80\x80\x80\n"             /* 10 overlong 4-byte */
              "12345678\x80\n"                 /* 11 lone continuation after a fast-path word */
              "\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF\n" /* 12 U+D7FF U+E000 U+FFFF */
              "\xC2\x80\xDF\xBF\n"                     /* 13 U+0080 U+07FF */
              "\xC1\xBF\n"                             /* 14 overlong 2-byte */
              "\xE2\x82"
              "A\n"               /* 15 truncated before ASCII */
              "\xFF\n"            /* 16 FF */
              "ok \xF0\x9F\x98"); /* 17 truncated emoji at EOF */
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  EXPECT_BAD(r,
             "ab\xC0\x80"
             "cd",
             1, 2);
  EXPECT_BAD(r, "x\xED\xA0\x80", 2, 1);
  EXPECT_BAD(r, "\xF5\x80\x80\x80", 3, 0);
  EXPECT_BAD(r, "abc\xE2\x82", 4, 3);
  EXPECT_BAD(r, "abc\xE2\x82", 5, 3);
  EXPECT_OK(r, "{\"e\":\"\xF0\x9F\x98\x80\"}", 6);
  EXPECT_BAD(r, "\xF4\x90\x80\x80", 7, 0);
  EXPECT_OK(r, "\xF4\x8F\xBF\xBF", 8);
  EXPECT_BAD(r, "\xE0\x80\x80", 9, 0);
  EXPECT_BAD(r, "\xF0\x80\x80\x80", 10, 0);
  EXPECT_BAD(r, "12345678\x80", 11, 8);
  EXPECT_OK(r, "\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF", 12);
  EXPECT_OK(r, "\xC2\x80\xDF\xBF", 13);
  EXPECT_BAD(r, "\xC1\xBF", 14, 0);
  EXPECT_BAD(r,
             "\xE2\x82"
             "A",
             15, 0);
  EXPECT_BAD(r, "\xFF", 16, 0);
  EXPECT_BAD(r, "ok \xF0\x9F\x98", 17, 3);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 17);
  unlink(t.path);
}
END_TEST

/* A bad byte at every offset of an ASCII line, so the 8-byte fast path meets it everywhere. */
START_TEST(utf8_bad_offset_every_position) {
  enum { LEN = 40 };
  char buf[LEN * (LEN + 1)];
  size_t n = 0;
  for (size_t bad = 0; bad < LEN; bad++) {
    for (size_t i = 0; i < LEN; i++)
      buf[n++] = i == bad ? (char)0x80 : (char)('a' + i % 26);
    buf[n++] = '\n';
  }
  struct tmpfile t;
  tmp_write(&t, buf, n);
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  for (size_t bad = 0; bad < LEN; bad++)
    expect(r, SRM_LINE_BAD_UTF8, buf + bad * (LEN + 1), LEN, bad + 1, bad);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  unlink(t.path);
}
END_TEST

/* The reference: the offset where utf8proc_iterate first fails, or n. */
static size_t ref_utf8_bad(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
    if (k <= 0) return i;
    i += (size_t)k;
  }
  return n;
}

static int ref_blank(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
  return 1;
}

/* Random short byte strings, biased to lead and continuation bytes, against utf8proc. */
START_TEST(utf8_differential_utf8proc) {
  static const unsigned char picks[] = {0x00, ' ',  'a',  '{',  0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                        0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
                                        0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  static const utf8proc_int32_t edges[] = {0x7F,   0x80,   0x7FF,  0x800,   0xD7FF,
                                           0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF};
  enum { LINES = 20000, MAXLEN = 24 };
  unsigned char *buf = malloc((size_t)LINES * (MAXLEN + 5));
  size_t *starts = malloc(LINES * sizeof *starts), *lens = malloc(LINES * sizeof *lens);
  ck_assert(buf && starts && lens);
  rng_state = 12345;
  size_t n = 0;
  for (size_t i = 0; i < LINES; i++) {
    size_t len = rnd_below(MAXLEN + 1);
    starts[i] = n;
    if (i == 0) buf[n++] = 'q'; /* no BOM at the start of the file */
    if (rnd_below(2) == 0) {
      /* random bytes, biased to lead and continuation bytes */
      for (size_t k = 0; k < len; k++) {
        unsigned char c =
            rnd_below(3) == 0 ? (unsigned char)rnd_below(256) : picks[rnd_below(sizeof picks)];
        buf[n++] = c == '\n' || c == '\r' ? 'z' : c;
      }
    } else {
      /* valid code points of every length, then maybe one corrupted byte */
      size_t from = n;
      while (n - from < len) {
        utf8proc_int32_t cp;
        switch (rnd_below(5)) {
        case 0:
          cp = (utf8proc_int32_t)(0x20 + rnd_below(0x5F));
          break;
        case 1:
          cp = (utf8proc_int32_t)(0x80 + rnd_below(0x780));
          break;
        case 2:
          cp = (utf8proc_int32_t)(0xE000 + rnd_below(0x2000));
          break;
        case 3:
          cp = (utf8proc_int32_t)(0x10000 + rnd_below(0x100000));
          break;
        default:
          cp = edges[rnd_below(sizeof edges / sizeof edges[0])];
          break;
        }
        n += (size_t)utf8proc_encode_char(cp, buf + n);
      }
      if (n > from && rnd_below(3) == 0) {
        unsigned char c = (unsigned char)rnd_below(256);
        buf[from + rnd_below(n - from)] = c == '\n' || c == '\r' ? 0xBF : c;
      }
    }
    lens[i] = n - starts[i];
    buf[n++] = '\n';
  }
  struct tmpfile t;
  tmp_write(&t, (const char *)buf, n);
  struct srm_jsonl_reader *r = open_ok(&t, 0);
  size_t ok = 0, bad = 0;
  for (size_t i = 0; i < LINES; i++) {
    const unsigned char *s = buf + starts[i];
    if (ref_blank(s, lens[i])) continue;
    size_t off = ref_utf8_bad(s, lens[i]);
    if (off == lens[i]) {
      expect(r, SRM_LINE_OK, (const char *)s, lens[i], i + 1, 0);
      ok++;
    } else {
      expect(r, SRM_LINE_BAD_UTF8, (const char *)s, lens[i], i + 1, off);
      bad++;
    }
  }
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  /* the generator must exercise both outcomes */
  ck_assert_uint_gt(ok, 1000);
  ck_assert_uint_gt(bad, 1000);
  unlink(t.path);
  free(buf);
  free(starts);
  free(lens);
}
END_TEST

/* ---- the line cap ---- */

START_TEST(cap_boundaries) {
  struct tmpfile t;
  TMP_LIT(&t, "0123456789\n"
              "0123456789A\n"
              "0123456789\r\n"
              "                              \n"
              "{}\n"
              "0123456789AB");
  struct srm_jsonl_reader *r = open_ok(&t, 10);
  EXPECT_OK(r, "0123456789", 1);
  expect(r, SRM_LINE_TOO_LONG, NULL, 11, 2, 0);
  EXPECT_OK(r, "0123456789", 3); /* the \r does not count */
  EXPECT_OK(r, "{}", 5);         /* a long blank line is still blank */
  expect(r, SRM_LINE_TOO_LONG, NULL, 12, 6, 0);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  check_count(&t, 5);
  unlink(t.path);

  /* the BOM does not count either */
  TMP_LIT(&t, "\xEF\xBB\xBF"
              "0123456789\r\n");
  r = open_ok(&t, 10);
  EXPECT_OK(r, "0123456789", 1);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  unlink(t.path);
}
END_TEST

/* Lines far over a tiny cap go through the skip path, which also strips BOM and \r from len
** and drops blank lines. */
START_TEST(cap_skip_path) {
  size_t big = 2 * MiB + 17, spaces = 3 * MiB, tail = MiB + 5;
  size_t n = 3 + big + 2 + spaces + 1 + 3 + tail;
  char *buf = malloc(n), *p = buf;
  ck_assert_ptr_nonnull(buf);
  memcpy(p, "\xEF\xBB\xBF", 3);
  p += 3;
  memset(p, 'x', big);
  p += big;
  memcpy(p, "\r\n", 2);
  p += 2;
  memset(p, ' ', spaces); /* a blank line with a \r and a tab inside */
  p[spaces / 2] = '\r';
  p[spaces - 1] = '\t';
  p += spaces;
  *p++ = '\n';
  memcpy(p, "{}\n", 3);
  p += 3;
  memset(p, 'y', tail);
  p += tail;
  ck_assert_uint_eq((size_t)(p - buf), n);
  struct tmpfile t;
  tmp_write(&t, buf, n);
  struct srm_jsonl_reader *r = open_ok(&t, 10);
  expect(r, SRM_LINE_TOO_LONG, NULL, big, 1, 0);
  EXPECT_OK(r, "{}", 3);
  expect(r, SRM_LINE_TOO_LONG, NULL, tail, 4, 0);
  EXPECT_EOF(r);
  ck_assert_uint_eq(srm_jsonl_bytes_read(r), n);
  srm_jsonl_close(r);
  check_count(&t, 3);
  unlink(t.path);
  free(buf);
}
END_TEST

/* Writes `{"k":"<pattern>"}` of exactly `len` bytes, a newline, then {"b":2}\n. */
static char *big_line_file(struct tmpfile *t, size_t len) {
  static const char tail[] = "\n{\"b\":2}\n";
  char *buf = malloc(len + sizeof tail);
  ck_assert_ptr_nonnull(buf);
  memcpy(buf, "{\"k\":\"", 6);
  for (size_t i = 6; i < len - 2; i++)
    buf[i] = (char)('a' + (i * 7) % 26);
  memcpy(buf + len - 2, "\"}", 2);
  memcpy(buf + len, tail, sizeof tail - 1);
  tmp_write(t, buf, len + sizeof tail - 1);
  return buf;
}

START_TEST(ten_mib_line_over_cap) {
  struct tmpfile t;
  size_t len = 10 * MiB;
  char *buf = big_line_file(&t, len);
  struct srm_jsonl_reader *r = open_ok(&t, MiB);
  expect(r, SRM_LINE_TOO_LONG, NULL, len, 1, 0);
  EXPECT_OK(r, "{\"b\":2}", 2);
  EXPECT_EOF(r);
  ck_assert_uint_eq(srm_jsonl_bytes_read(r), len + 9);
  srm_jsonl_close(r);
  check_count(&t, 2);
  unlink(t.path);
  free(buf);
}
END_TEST

START_TEST(ten_mib_line_under_cap) {
  struct tmpfile t;
  size_t len = 10 * MiB;
  char *buf = big_line_file(&t, len);
  struct srm_jsonl_reader *r = open_ok(&t, 64 * MiB);
  expect(r, SRM_LINE_OK, buf, len, 1, 0);
  EXPECT_OK(r, "{\"b\":2}", 2);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  /* exactly at the cap is still fine */
  r = open_ok(&t, len);
  expect(r, SRM_LINE_OK, buf, len, 1, 0);
  EXPECT_OK(r, "{\"b\":2}", 2);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  r = open_ok(&t, len - 1);
  expect(r, SRM_LINE_TOO_LONG, NULL, len, 1, 0);
  EXPECT_OK(r, "{\"b\":2}", 2);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  unlink(t.path);
  free(buf);
}
END_TEST

/* ---- buffer boundaries: random files against the generator's own record of each line ---- */

struct ref_line {
  size_t off; /* where the stripped line starts in the file */
  size_t len; /* stripped length */
  size_t bad; /* offset of the bad sequence, or SIZE_MAX */
  int blank;
};

struct gen {
  char *buf;
  size_t n, cap;
  struct ref_line *lines;
  size_t nlines;
};

static void gen_put(struct gen *g, const void *s, size_t k) {
  if (g->n + k > g->cap) {
    while (g->n + k > g->cap)
      g->cap = g->cap ? g->cap * 2 : 4096;
    g->buf = realloc(g->buf, g->cap);
    ck_assert_ptr_nonnull(g->buf);
  }
  memcpy(g->buf + g->n, s, k);
  g->n += k;
}

/* nlines lines: empty, whitespace-only, short, medium and (if huge) a few 1-2.5 MiB lines, with
** multibyte characters, some invalid sequences, LF or CRLF, a BOM first and no final newline. */
static void gen_file(struct gen *g, uint64_t seed, size_t nlines, int huge) {
  static const char *const bads[] = {"\xFF", "\xC0\x80", "\xED\xA0\x80", "\xE2\x82", "\xF5"};
  static const char *const chars[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\t"};
  memset(g, 0, sizeof *g);
  g->lines = calloc(nlines, sizeof *g->lines);
  ck_assert_ptr_nonnull(g->lines);
  g->nlines = nlines;
  rng_state = seed;
  gen_put(g, "\xEF\xBB\xBF", 3);
  for (size_t i = 0; i < nlines; i++) {
    struct ref_line *L = &g->lines[i];
    L->off = g->n;
    L->bad = SIZE_MAX;
    size_t kind = rnd_below(1000);
    if (kind < 50) {
      /* empty */
    } else if (kind < 80) {
      for (size_t k = 1 + rnd_below(20); k > 0; k--)
        gen_put(g, &" \t\r"[rnd_below(3)], 1);
    } else {
      size_t nchars;
      if (huge && rnd_below(10000) == 0)
        nchars = MiB + rnd_below(3 * MiB / 2);
      else if (kind < 985)
        nchars = rnd_below(301);
      else
        nchars = 1000 + rnd_below(7001);
      size_t bad_at = rnd_below(100) == 0 && nchars > 0 ? rnd_below(nchars) : SIZE_MAX;
      for (size_t c = 0; c < nchars; c++) {
        if (c == bad_at) {
          const char *b = bads[rnd_below(5)];
          L->bad = g->n - L->off;
          gen_put(g, b, strlen(b));
        }
        size_t p = rnd_below(100);
        if (p < 85) {
          char ch = (char)(0x20 + rnd_below(95));
          gen_put(g, &ch, 1);
        } else {
          const char *m = chars[(p - 85) / 4];
          gen_put(g, m, strlen(m));
        }
      }
    }
    L->len = g->n - L->off;
    /* a whitespace line may end in \r, which the reader strips: the stripped length shrinks */
    if (L->len > 0 && g->buf[g->n - 1] == '\r') L->len--;
    L->blank = ref_blank((const unsigned char *)g->buf + L->off, L->len);
    if (i + 1 < nlines) {
      int use_crlf = rnd_below(5) == 0;
      gen_put(g, use_crlf ? "\r\n" : "\n", use_crlf ? 2 : 1);
    }
  }
}

static size_t gen_records(const struct gen *g) {
  size_t n = 0;
  for (size_t i = 0; i < g->nlines; i++)
    n += !g->lines[i].blank;
  return n;
}

static void check_gen(const struct gen *g, struct srm_jsonl_reader *r, size_t cap) {
  size_t too_long = 0, bad = 0;
  for (size_t i = 0; i < g->nlines; i++) {
    const struct ref_line *L = &g->lines[i];
    if (L->blank) continue;
    if (L->len > cap) {
      expect(r, SRM_LINE_TOO_LONG, NULL, L->len, i + 1, 0);
      too_long++;
    } else if (L->bad != SIZE_MAX) {
      expect(r, SRM_LINE_BAD_UTF8, g->buf + L->off, L->len, i + 1, L->bad);
      bad++;
    } else {
      expect(r, SRM_LINE_OK, g->buf + L->off, L->len, i + 1, 0);
    }
  }
  EXPECT_EOF(r);
  ck_assert_uint_eq(srm_jsonl_bytes_read(r), g->n);
  ck_assert_uint_gt(bad, 0);
  if (cap < 3 * MiB) ck_assert_uint_gt(too_long, 0);
}

static void gen_free(struct gen *g) {
  free(g->buf);
  free(g->lines);
}

START_TEST(random_lines_buffer_boundaries) {
  struct gen g;
  gen_file(&g, 42, 100000, 1);
  struct tmpfile t;
  tmp_write(&t, g.buf, g.n);
  ck_assert_int_eq(srm_jsonl_count_records(t.path), (int64_t)gen_records(&g));
  static const size_t caps[] = {2 * MiB, 5000, 300, 64 * MiB};
  for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
    struct srm_jsonl_reader *r = open_ok(&t, caps[c]);
    check_gen(&g, r, caps[c]);
    srm_jsonl_close(r);
  }
  unlink(t.path);
  gen_free(&g);
}
END_TEST

/* ---- pipes and FIFOs ---- */

/* Feeds buf into a pipe from a child process in random small chunks; returns the read end. */
static int pipe_feed(const char *buf, size_t n, pid_t *child) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    size_t at = 0;
    while (at < n) {
      size_t k = 1 + rnd_below(rnd_below(4) == 0 ? 70000 : 300);
      if (k > n - at) k = n - at;
      ssize_t w = write(fds[1], buf + at, k);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) _exit(1);
      at += (size_t)w;
    }
    _exit(0);
  }
  close(fds[1]);
  *child = pid;
  return fds[0];
}

static void pipe_wait(pid_t child) {
  int status = 0;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(read_from_pipe) {
  struct gen g;
  gen_file(&g, 7, 20000, 0);
  pid_t child;
  int fd = pipe_feed(g.buf, g.n, &child);
  struct srm_jsonl_reader *r = srm_jsonl_open_fd(fd, 2000);
  ck_assert_ptr_nonnull(r);
  check_gen(&g, r, 2000);
  srm_jsonl_close(r);
  /* the reader does not close a caller's fd */
  ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
  ck_assert_int_eq(close(fd), 0);
  pipe_wait(child);
  gen_free(&g);
}
END_TEST

/* Writes each chunk in its own write, pausing between them, so the reader sees a line's head
** before its newline. */
static int pipe_feed_chunks(const char *const *chunks, size_t n, pid_t *child) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    for (size_t i = 0; i < n; i++) {
      size_t len = strlen(chunks[i]);
      if (write(fds[1], chunks[i], len) != (ssize_t)len) _exit(1);
      usleep(30000);
    }
    _exit(0);
  }
  close(fds[1]);
  *child = pid;
  return fds[0];
}

/* A line exactly at the cap with a BOM and a \r, whose newline arrives late, must not be taken
** for an over-long one: the reader waits for the terminator before judging. */
START_TEST(cap_boundaries_pipe) {
  static const char *const chunks[] = {"\xEF\xBB\xBF"
                                       "0123456789\r",
                                       "\n0123456789\r", "\n0123456789A", "\r\n{}"};
  pid_t child;
  int fd = pipe_feed_chunks(chunks, 4, &child);
  struct srm_jsonl_reader *r = srm_jsonl_open_fd(fd, 10);
  ck_assert_ptr_nonnull(r);
  EXPECT_OK(r, "0123456789", 1);
  EXPECT_OK(r, "0123456789", 2);
  expect(r, SRM_LINE_TOO_LONG, NULL, 11, 3, 0);
  EXPECT_OK(r, "{}", 4);
  EXPECT_EOF(r);
  srm_jsonl_close(r);
  ck_assert_int_eq(close(fd), 0);
  pipe_wait(child);
}
END_TEST

START_TEST(count_records_not_regular) {
  char dir[] = "/tmp/srm_jsonl_dXXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char fifo[64];
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  ck_assert_int_eq(mkfifo(fifo, 0600), 0);
  /* must not open (and block on) the FIFO */
  ck_assert_int_eq(srm_jsonl_count_records(fifo), -1);
  ck_assert_int_eq(srm_jsonl_count_records("-"), -1);
  ck_assert_int_eq(srm_jsonl_count_records(dir), -1);
  ck_assert_int_eq(srm_jsonl_count_records("/nonexistent/srm.jsonl"), -1);
  ck_assert_int_eq(unlink(fifo), 0);
  ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- errors ---- */

START_TEST(open_errors) {
  char err[256] = "";
  ck_assert_ptr_null(srm_jsonl_open("/nonexistent/srm.jsonl", 0, err, sizeof err));
  ck_assert_str_eq(err, "/nonexistent/srm.jsonl: No such file or directory");
  ck_assert_ptr_null(srm_jsonl_open("/tmp", 0, err, sizeof err));
  ck_assert_str_eq(err, "/tmp: Is a directory");
  srm_jsonl_close(NULL);
}
END_TEST

START_TEST(read_error_is_sticky) {
  int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
  ck_assert_int_ge(fd, 0);
  struct srm_jsonl_reader *r = srm_jsonl_open_fd(fd, 0);
  ck_assert_ptr_nonnull(r);
  expect(r, SRM_LINE_IO_ERROR, NULL, 0, 0, 0);
  ck_assert_str_eq(srm_jsonl_error(r), "read: Is a directory");
  expect(r, SRM_LINE_IO_ERROR, NULL, 0, 0, 0);
  srm_jsonl_close(r);
  ck_assert_int_eq(close(fd), 0);
}
END_TEST

static Suite *jsonl_suite(void) {
  Suite *s = suite_create("jsonl");
  TCase *tc = tcase_create("reader");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, crlf);
  tcase_add_test(tc, bom_only_at_start);
  tcase_add_test(tc, blank_lines);
  tcase_add_test(tc, last_line_without_newline);
  tcase_add_test(tc, empty_file);
  tcase_add_test(tc, only_blank_lines);
  tcase_add_test(tc, nul_byte);
  tcase_add_test(tc, utf8_variants);
  tcase_add_test(tc, utf8_bad_offset_every_position);
  tcase_add_test(tc, utf8_differential_utf8proc);
  tcase_add_test(tc, cap_boundaries);
  tcase_add_test(tc, cap_skip_path);
  tcase_add_test(tc, ten_mib_line_over_cap);
  tcase_add_test(tc, ten_mib_line_under_cap);
  tcase_add_test(tc, random_lines_buffer_boundaries);
  tcase_add_test(tc, read_from_pipe);
  tcase_add_test(tc, cap_boundaries_pipe);
  tcase_add_test(tc, count_records_not_regular);
  tcase_add_test(tc, open_errors);
  tcase_add_test(tc, read_error_is_sticky);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  return srm_check_run(jsonl_suite());
}
