"""Printed documents of the voting meeting: pure functions from values to PDF bytes.

- :mod:`deltager.pdf.cards` — sheets of cut-out ballot cards, one QR code per card;
- :mod:`deltager.pdf.posters` — one poster per stand;
- :mod:`deltager.pdf.protocol` — the formal protocol of the vote and its allocation.

Nothing here reads the database, the request or the app: callers pass plain dataclasses and
wrap the bytes in a response. The protocol maps a closed vote (``voting.services.ClosedVote``)
to what it prints itself (``protocol.protocol_data``), so no view holds that mapping. Output is deterministic (``invariant=1``), so the same input gives
the same bytes. The texts are Danish (the cards and posters also English): these are the
municipality's documents, printed in Danish whatever language the staff member browses in.
"""
