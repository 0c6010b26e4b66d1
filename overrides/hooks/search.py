"""mkdocs hook: jieba learns the site's words before the search plugin indexes a page, and the
index is written as UTF-8 before the offline plugin inlines it, and the worker's query
segmenter tries the whole query (scoring.outputs.search)."""

from mkdocs.plugins import event_priority

from scoring.outputs.search import WORDS_FILE, add_words, compact_index, patch_segmenter


def on_config(config):
    add_words(f"{config['docs_dir']}/{WORDS_FILE}")
    return config


@event_priority(-50)  # after the search plugin wrote the index (0), before offline reads it (-100)
def on_post_build(config):
    compact_index(config["site_dir"])
    patch_segmenter(config["site_dir"])
