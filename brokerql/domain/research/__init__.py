"""The information platform's rules (B1-B5): columns, articles, the editorial workflow, feed parsing,
entitlement of each article and the text segmentation that makes Chinese searchable. Pure: no I/O."""
