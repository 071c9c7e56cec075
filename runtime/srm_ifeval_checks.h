/* srm: IFEval's 25 instruction checks (google-research instruction_following_eval, as registered
** in instructions_registry.py) with the official semantics, strict and loose, in pure C. Each
** check is written from the official checker's behaviour: Python `re` patterns run on PCRE2 with
** Python's notions of whitespace, case and word characters (srm_ifeval_py.h); sentence counts and
** word_tokenize use the NLTK re-implementation (srm_ifeval_nltk.h); language checks use the
** langdetect re-implementation (srm_ifeval_langdetect.h). Nothing here includes lua.h. */
#ifndef SRM_IFEVAL_CHECKS_H
#define SRM_IFEVAL_CHECKS_H

#include <stddef.h>

enum srm_ifeval_id {
  IFE_KEYWORD_EXISTENCE,
  IFE_KEYWORD_FREQUENCY,
  IFE_FORBIDDEN_WORDS,
  IFE_LETTER_FREQUENCY,
  IFE_RESPONSE_LANGUAGE,
  IFE_NUMBER_SENTENCES,
  IFE_NUMBER_PARAGRAPHS,
  IFE_NUMBER_WORDS,
  IFE_NTH_PARAGRAPH_FIRST_WORD,
  IFE_NUMBER_PLACEHOLDERS,
  IFE_POSTSCRIPT,
  IFE_NUMBER_BULLET_LISTS,
  IFE_CONSTRAINED_RESPONSE,
  IFE_NUMBER_HIGHLIGHTED_SECTIONS,
  IFE_MULTIPLE_SECTIONS,
  IFE_JSON_FORMAT,
  IFE_TITLE,
  IFE_TWO_RESPONSES,
  IFE_REPEAT_PROMPT,
  IFE_END_CHECKER,
  IFE_CAPITAL_WORD_FREQUENCY,
  IFE_ENGLISH_CAPITAL,
  IFE_ENGLISH_LOWERCASE,
  IFE_NO_COMMA,
  IFE_QUOTATION,
  IFE_COUNT
};

/* The official instruction id of each enum value ("keywords:existence", ...). */
extern const char *const srm_ifeval_names[IFE_COUNT];

/* Looks an instruction id up; -1 when it is not one of the 25. */
int srm_ifeval_lookup(const char *name, size_t len);

enum srm_ifeval_relation { IFE_LESS_THAN, IFE_AT_LEAST };

struct srm_ifeval_str {
  const char *s;
  size_t len;
};

/* The arguments of one instruction as build_description receives them: thresholds in n
** (num_*, frequency; num_paragraphs with nth_paragraph in n2), the relation, one string (keyword,
** letter, language, marker, splitter, first word, end phrase, prompt to repeat) and a list
** (keywords, forbidden words). Strings are the raw kwargs: the checks apply the strip()/lower()
** that build_description and check_following apply. The caller validates presence and ranges. */
struct srm_ifeval_args {
  enum srm_ifeval_id id;
  long long n, n2;
  enum srm_ifeval_relation relation;
  struct srm_ifeval_str str;
  const struct srm_ifeval_str *list;
  size_t nlist;
};

enum srm_ifeval_status {
  IFE_OK = 0,
  IFE_BAD_ARGS = 1,    /* e.g. a keyword that is not a valid regular expression */
  IFE_NO_PROFILES = 2, /* the langdetect profiles cannot be loaded */
  IFE_FAILED = -1,     /* out of memory or a regex limit */
};

/* Checks one instruction against a response (UTF-8; invalid bytes read as U+FFFD), strict and
** loose. On failure *err (a static or per-call message copied into errbuf) says why. */
enum srm_ifeval_status srm_ifeval_check(const struct srm_ifeval_args *a, const char *response,
                                        size_t len, int *strict, int *loose, char *errbuf,
                                        size_t errlen);

/* A response checked against several instructions: decoding, the loose variants, their
** language and sentence tokenization are shared. srm_ifeval_response_new returns NULL when out of
** memory; srm_ifeval_response_check is srm_ifeval_check on it (same results, same errors). */
struct srm_ifeval_response;
struct srm_ifeval_response *srm_ifeval_response_new(const char *response, size_t len);
enum srm_ifeval_status srm_ifeval_response_check(struct srm_ifeval_response *r,
                                                 const struct srm_ifeval_args *a, int *strict,
                                                 int *loose, char *errbuf, size_t errlen);
void srm_ifeval_response_free(struct srm_ifeval_response *r);

/* Python's json.loads(s) succeeds (strict mode; NaN/Infinity allowed); iterative, any depth. */
int srm_ifeval_json_valid(const char *s, size_t len);

/* instructions_util.count_words: the number of \w+ runs. */
size_t srm_ifeval_count_words(const char *s, size_t len);

#endif
