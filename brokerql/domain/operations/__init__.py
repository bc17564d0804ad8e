"""Operations rules (E3): alert thresholds over the monitor's figures, and trading halts."""
