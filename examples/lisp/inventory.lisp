; An inventory kept as "item:<name>" -> "<quantity>,<price in cents>".
; Shows prefix scans, string splitting and folding a report together.

(define stock
  '(("apple" 12 40) ("banana" 30 25) ("cherry" 200 5) ("durian" 1 1500)))

(for (row stock)
  (set (str "item:" (first row))
       (format "{},{}" (nth row 1) (nth row 2))))

(define (parse-item pair)
  ; pair is (key value) as scan returns it
  (let ((name (slice (first pair) 5))
        (fields (split (nth pair 1) ",")))
    (list name (parse-int (first fields)) (parse-int (nth fields 1)))))

(define items (map parse-item (scan "item:")))

(define (value-of item) (* (nth item 1) (nth item 2)))

(for (item items)
  (println (format "{} x{} = {} cents" (first item) (nth item 1) (value-of item))))

(define low (filter (lambda (item) (< (nth item 1) 10)) items))
(println "low stock:" (map first low))
(println "stock value:" (fold (lambda (sum item) (+ sum (value-of item))) 0 items) "cents")
