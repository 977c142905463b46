"""ckm-research: an end-to-end toolkit for empirical Customer Knowledge
Management (CKM) studies: instrument, data, CFA/SEM, moderation, power, report.
"""

__version__ = "0.1.0"
