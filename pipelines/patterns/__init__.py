"""All regex patterns of the pipelines, in one place (house rule: none scattered in the code).

* `pipelines.patterns.layout`   - page-structure markers: disclaimer, 大家都在搜, related heading and
  meta lines, preamble, nav/footer noise, title suffixes, ad/chrome class tokens (parser).
* `pipelines.patterns.entities` - classification and policy / hospital-ranking extraction.

Shared date syntax lives in `pipelines.text` (`DATE_PATTERN`) because date parsing is part of
the text-normalization policy every module uses.
"""
