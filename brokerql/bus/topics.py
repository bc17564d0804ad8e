"""The names of the bus topics that carry typed messages (market data topics live with the exchange desk)."""

from __future__ import annotations

COMMANDS_TOPIC = "exchange.commands"  # SubmitOrder / CancelOrder for the execution venue, in commit order
ARTICLES_PUBLISHED_TOPIC = "articles.published"  # ArticlePublished, for articlePublished streams (B4)
PARKED_ORDERS_TOPIC = "trading.parked"  # ParkedOrderView after each change, for every process's trigger watch
CLIENT_TIERS_TOPIC = "identity.tiers"  # ClientTierChanged, for every process's tier cache


def account_topic(account_id: str) -> str:
    """One account's event log (AccountEvent, gapless seq)."""
    return f"account.{account_id}"
