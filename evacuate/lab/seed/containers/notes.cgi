#!/bin/sh
# GET: the notes; POST: append the body as one note. The notes live in the named volume.
printf 'Content-Type: text/plain\r\n\r\n'
if [ "${REQUEST_METHOD:-GET}" = POST ]; then
  head -c "${CONTENT_LENGTH:-0}" >> /data/notes.txt
  echo >> /data/notes.txt
fi
echo "${NOTES_TITLE:-notes}"
echo "$(wc -l < /data/notes.txt) notes"
cat /data/notes.txt
