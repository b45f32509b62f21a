"""Transcripts: the calls as submitted, in JSON or plain text, with numbered turns that evidence can cite."""
