/* srm: Check tests of the JSON string scanner shared by the encoder and the decoder
** (srm_json_plain_prefix in runtime/srm_json.h): every kind of stop byte at every offset across
** the 32-byte vector steps and the byte-at-a-time tail, against a plain reference loop. */
#include "srm_json.h"

#include "check_main.h"

#include <check.h>
#include <string.h>

/* The definition, one byte at a time. */
static size_t reference_prefix(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
    i++;
  return i;
}

/* Bytes that end a plain run, and some that do not (0x7F is DEL: ASCII, allowed in a string). */
static const unsigned char STOPS[] = {'"', '\\', 0x00, 0x01, 0x0A, 0x1F, 0x80, 0xC3, 0xFF};
static const unsigned char PLAIN[] = {' ', '!', '#', '[', ']', '~', 0x7F, 'a'};

START_TEST(test_every_stop_at_every_offset) {
  unsigned char buf[100];
  for (size_t len = 0; len <= sizeof buf; len++) {
    for (size_t at = 0; at <= len; at++) {
      for (size_t k = 0; k < sizeof STOPS; k++) {
        for (size_t i = 0; i < len; i++)
          buf[i] = PLAIN[i % sizeof PLAIN];
        if (at < len) buf[at] = STOPS[k];
        size_t want = reference_prefix(buf, len);
        ck_assert_uint_eq(want, at < len ? at : len);
        ck_assert_msg(srm_json_plain_prefix(buf, len) == want,
                      "len %zu, stop 0x%02X at %zu: got %zu, want %zu", len, STOPS[k], at,
                      srm_json_plain_prefix(buf, len), want);
      }
    }
  }
}
END_TEST

START_TEST(test_first_of_two_stops) {
  unsigned char buf[80];
  memset(buf, 'x', sizeof buf);
  buf[40] = '\\';
  buf[17] = 0x90;
  ck_assert_uint_eq(srm_json_plain_prefix(buf, sizeof buf), 17);
  buf[17] = 'x';
  ck_assert_uint_eq(srm_json_plain_prefix(buf, sizeof buf), 40);
  ck_assert_uint_eq(srm_json_plain_prefix(buf, 40), 40);
  ck_assert_uint_eq(srm_json_plain_prefix(buf + 41, sizeof buf - 41), sizeof buf - 41);
}
END_TEST

static Suite *make_suite(void) {
  Suite *s = suite_create("json_scan");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_every_stop_at_every_offset);
  tcase_add_test(tc, test_first_of_two_stops);
  suite_add_tcase(s, tc);
  return s;
}

SRM_CHECK_MAIN(make_suite)
