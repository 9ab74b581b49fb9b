"""納付書 PDFs (framework-free): slips drawn with vector eL-QR and GS1-128 codes."""
