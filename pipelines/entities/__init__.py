"""Entity extractors behind `pipelines.extract.enrich`: hospital rankings and policies."""
