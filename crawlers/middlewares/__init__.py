"""Scrapy downloader and spider middlewares of the healthnews crawl."""
