"""The organisation: partners (outsourcing vendors), teams and agents."""
