"""Library templates with post texts for the evergreen and field-edit tests, written to a folder."""

from __future__ import annotations

from pathlib import Path

# Gold partners only: a silver partner's library does not show it.
GOLD_POSTS = {
    "manifest.toml": '''name = "Gold partner posts"
description = "Only for gold partners."
outputs = ["post:mastodon"]
tiers = ["gold"]

[links]
landing = "https://vendor.example.com/gold"

[fields.comment]
type = "text"
max_length = 80
default = "Gold news."
''',
    "posts.toml": '''[mastodon]
text = "{{ comment }} {{ links.landing }}"
''',
}

# A post text and an image from one template: `headline` is in both, `body` in the texts only.
CARD_POSTS = {
    "manifest.toml": '''name = "Card posts"
description = "A post with its card image."
outputs = ["post:mastodon", "post:x", "png"]

[links]
landing = "https://vendor.example.com/card"

[fields.headline]
type = "text"
max_length = 60
default = "Meet us at the fair"

[fields.body]
type = "multiline"
max_length = 600
default = "Hall 4, booth 12."
''',
    "posts.toml": '''[mastodon]
text = "{{ headline }}: {{ body }} {{ links.landing }}"

[x]
text = "{{ headline }} {{ links.landing }}"
''',
    "image.toml": '''canvas = [400, 200]
background_color = "#1f4e79"

  [[layers]]
  kind = "text"
  name = "headline"
  box = [20, 20, 360, 160]
  text = "{{ headline }}"
  size = 32
  min_size = 12
  color = "#ffffff"
''',
}

# No editable fields at all.
PLAIN_POSTS = {
    "manifest.toml": '''name = "Plain posts"
description = "Nothing to edit."
outputs = ["post:mastodon"]

[links]
landing = "https://vendor.example.com/plain"
''',
    "posts.toml": '''[mastodon]
text = "Our plain news: {{ links.landing }}"
''',
}

TEMPLATES = {"gold-posts": GOLD_POSTS, "card-posts": CARD_POSTS, "plain-posts": PLAIN_POSTS}


def write_templates(root: Path) -> Path:
    """The three templates above as a catalogue folder under `root` (for import_catalogue)."""
    folder = root / "evergreen-templates"
    for slug, files in TEMPLATES.items():
        (folder / slug).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / slug / name).write_text(text, encoding="utf-8")
    return folder
