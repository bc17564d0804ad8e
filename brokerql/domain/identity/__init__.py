"""Identity domain: tiers and entitlements, grading, level workflow, login security and operator roles.

Pure logic and thin wrappers over well-kept libraries (argon2-cffi, pyotp, cryptography, captcha).
Nothing here touches a database, the network or the clock: every time-dependent function takes
``now`` as an argument (a timezone-aware ``datetime``). Import the submodules directly; this package
re-exports nothing so that importing, say, ``tiers`` does not pull in Pillow for the captcha.
"""
