"""BrokerQL: the GraphQL backend of a securities broker's investor service platform."""

__version__ = "0.1.0"
