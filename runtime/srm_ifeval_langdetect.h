/* srm: a re-implementation of the `langdetect` Python package's detector (a port of Nakatani
** Shuyo's language-detection), as IFEval's official checker calls it with
** `DetectorFactory.seed = 0`: the same text cleaning, n-gram extraction, seven trials of naive
** Bayes updates driven by Python's Mersenne Twister (random.Random(0): choice and gauss), the same
** convergence test and the same 0.1 threshold, so the verdicts agree with `langdetect.detect`.
**
** The language profiles are not part of srm: they are read, once per process, from an installed
** copy of the package (Debian's python3-langdetect puts them in
** /usr/lib/python3/dist-packages/langdetect; SRM_LANGDETECT_DIR overrides). The directory must hold
** profiles/<lang> (JSON: freq, n_words, name) and utils/messages.properties (the CJK and
** Vietnamese normalization tables). Nothing here includes lua.h; the loaded table is immutable
** and shared by every thread. */
#ifndef SRM_IFEVAL_LANGDETECT_H
#define SRM_IFEVAL_LANGDETECT_H

#include <stddef.h>

struct srm_langdetect;

/* The default profile directory, or SRM_LANGDETECT_DIR when set. */
const char *srm_langdetect_default_dir(void);

/* Loads a profile directory. Returns NULL with a message in err on failure. */
struct srm_langdetect *srm_langdetect_load(const char *dir, char *err, size_t errlen);
void srm_langdetect_free(struct srm_langdetect *ld);

/* The process-wide detector over srm_langdetect_default_dir(), loaded on first use (thread-safe).
** Returns NULL with the load error in *err (a static string) when it cannot be loaded. */
const struct srm_langdetect *srm_langdetect_shared(const char **err);

/* The number of languages and the name of language i (load order: profile names sorted). */
int srm_langdetect_count(const struct srm_langdetect *ld);
const char *srm_langdetect_name(const struct srm_langdetect *ld, int i);

enum srm_langdetect_result {
  SRM_LD_OK = 0,          /* *lang is a language code, or "unknown" when no language is > 0.1 */
  SRM_LD_NO_FEATURES = 1, /* langdetect raises "No features in text." */
  SRM_LD_NOMEM = -1,
};

/* Detects the language of UTF-8 text (invalid bytes read as U+FFFD). Only the first 2^20 code
** points are read (langdetect itself looks at the first 10,000 after removing URLs and e-mail
** addresses). When probs is not NULL it receives the averaged probability of each language. */
enum srm_langdetect_result srm_langdetect_detect(const struct srm_langdetect *ld, const char *s,
                                                 size_t len, const char **lang, double *probs);

#endif
