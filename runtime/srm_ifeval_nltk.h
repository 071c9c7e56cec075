/* srm: the two NLTK tokenizers that IFEval's official checker calls, re-implemented in C over
** PCRE2: the Punkt sentence tokenizer (nltk 3.8's PunktSentenceTokenizer.tokenize, with its
** candidate contexts, first and second annotation passes and boundary realignment) and
** nltk.word_tokenize (Punkt sentences, then NLTKWordTokenizer's ordered regex rewrites and a
** whitespace split).
**
** NLTK's checker loads trained English Punkt parameters (english.pickle) that srm does not ship.
** In their place srm uses a hand-written list of common English abbreviations, treats a list of
** common English words as "seen in lower case mid-sentence, capitalized at sentence starts" (the
** orthographic context) and has no collocations. Sentence counts can therefore differ from NLTK's
** around rare abbreviations and initials. Nothing here includes lua.h. */
#ifndef SRM_IFEVAL_NLTK_H
#define SRM_IFEVAL_NLTK_H

#include <stddef.h>

struct srm_span {
  size_t start, stop; /* byte offsets, [start, stop) */
};

/* Punkt sentences of s: on success returns 0 and stores a malloc'ed array of *count spans in
** *spans (NULL when there are none; free it). When s is not valid UTF-8 each invalid byte is read
** as U+FFFD and only *count is set (*spans stays NULL). Returns -1 when out of memory or when
** PCRE2 hits a limit. */
int srm_nltk_sentences(const char *s, size_t n, struct srm_span **spans, size_t *count);

/* The number of tokens of nltk.word_tokenize(s) for which str.isupper() holds. Returns 0 and
** stores it in *count, or -1 as above. */
int srm_nltk_capital_words(const char *s, size_t n, size_t *count);

/* The same count for several texts that share sentences (the loose variants of one response): a
** memo remembers the count of every sentence it has tokenized (it copies their text). NULL memo:
** no memo. srm_nltk_memo_new returns NULL when out of memory. */
struct srm_nltk_memo;
struct srm_nltk_memo *srm_nltk_memo_new(void);
void srm_nltk_memo_free(struct srm_nltk_memo *memo);
int srm_nltk_capital_words_memo(const char *s, size_t n, struct srm_nltk_memo *memo, size_t *count);

/* Tokens of NLTKWordTokenizer().tokenize(s) (one sentence), for tests: calls fn for each token.
** Returns 0, or -1 as above. */
int srm_nltk_word_tokens(const char *s, size_t n, void (*fn)(void *, const char *, size_t),
                         void *ud);

#endif
