"""Sample feed files, one per format (`brokerql import FORMAT FILE`; documented in docs/api.md)."""

from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
SAMPLE_FILES = {
    "vendor": SAMPLES / "vendor_feed.csv",
    "json": SAMPLES / "research_feed.json",
    "markdown": SAMPLES / "morning_note.md",
    "announcements": SAMPLES / "announcements.jsonl",
}
